package main

import (
	amqp "github.com/rabbitmq/amqp091-go"
)

// queueDepth is the number of ready messages in queue (-1 when unknown).
func queueDepth(rabbit, queue string) int {
	conn, err := amqp.Dial("amqp://guest:guest@" + rabbit + "/")
	if err != nil {
		return -1
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return -1
	}
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		return -1
	}
	return q.Messages
}

// cleanupBroker deletes the exchanges and queues of the benchmark's
// service name and exchange.
func cleanupBroker(rabbit, service, exchange string) {
	conn, err := amqp.Dial("amqp://guest:guest@" + rabbit + "/")
	if err != nil {
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	for _, q := range []string{service + ".checks", service + ".status", service + ".history", service + ".alerts",
		service + ".poison", exchange + ".unrouted"} {
		_, _ = ch.QueueDelete(q, false, false, false)
	}
	for _, x := range []string{exchange, exchange + ".unrouted", service + ".dlx"} {
		_ = ch.ExchangeDelete(x, false, false)
	}
}
