package servers

import "testing"

func TestMachineEndpoints(t *testing.T) {
	for _, env := range []string{RabbitMQEnv, RedisEnv, PostgresEnv} {
		t.Setenv(env, "")
	}
	mq := MachineRabbitMQ()
	if mq.URL() != "amqp://guest:guest@127.0.0.1:5672/" || mq.Host() != "127.0.0.1" || mq.Port() != 5672 || mq.User() != "guest" || mq.Password() != "guest" {
		t.Fatalf("default RabbitMQ = %s", mq.URL())
	}
	if got := mq.Via("127.0.0.1:1").URL(); got != "amqp://guest:guest@127.0.0.1:1/" {
		t.Fatalf("Via = %s", got)
	}
	if got := mq.WithPassword("p@ss").URL(); got != "amqp://guest:p%40ss@127.0.0.1:5672/" {
		t.Fatalf("WithPassword = %s", got)
	}
	if got := MachineRedis().Addr(); got != "127.0.0.1:6379" {
		t.Fatalf("default Redis = %s", got)
	}
	pg := MachinePostgres()
	if pg.Addr() != "127.0.0.1:5432" || pg.User() != "postgres" || pg.Password() != "" || pg.Database() != "test" {
		t.Fatalf("default PostgreSQL = %s", pg.URL())
	}

	t.Setenv(RabbitMQEnv, "amqp://u:pw@10.0.0.1:5673/vh")
	t.Setenv(RedisEnv, "10.0.0.2:6380")
	t.Setenv(PostgresEnv, "postgres://app:secret@10.0.0.3:5433/db")
	if got := MachineRabbitMQ().Via("127.0.0.1:9").URL(); got != "amqp://u:pw@127.0.0.1:9/vh" {
		t.Fatalf("overridden RabbitMQ via a proxy = %s", got)
	}
	if got := MachineRedis(); got.Host() != "10.0.0.2" || got.Port() != 6380 {
		t.Fatalf("overridden Redis = %s", got.Addr())
	}
	if pg := MachinePostgres(); pg.Port() != 5433 || pg.User() != "app" || pg.Password() != "secret" || pg.Database() != "db" {
		t.Fatalf("overridden PostgreSQL = %s", pg.URL())
	}
}
