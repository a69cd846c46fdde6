package service_test

import "github.com/dbhealth/database-service/testsupport/cluster"

// The machine's RabbitMQ and Redis (TEST_RABBITMQ_URL, TEST_REDIS_ADDR
// override them).
var (
	rabbitMQ   = cluster.RabbitMQ
	rabbitAddr = rabbitMQ.Addr()
	redisAddr  = cluster.Redis.Addr()
)
