package probes

import "context"

// OpenRabbitMQ is replaced by the real rabbitmq driver.
func OpenRabbitMQ(ctx context.Context, t Target) (Client, error) { return nil, errNoOpener(RabbitMQ) }
