// Package bus carries events.Envelope values between replicas of
// database-service: over RabbitMQ when Config.URL is set, or through an
// in-process watermill gochannel when it is empty (one process only).
//
// # Topology (RabbitMQ)
//
// DeclareTopology declares, idempotently and in one place:
//
//   - the durable topic exchange Config.Exchange ("db.health") with an
//     alternate exchange "<exchange>.unrouted" (fanout, durable) bound to a
//     durable, length-bounded queue of the same name, so a message no queue
//     binds is kept rather than silently confirmed and dropped;
//   - the dead-letter exchange "<service>.dlx" (fanout, durable) bound to the
//     poison queue "<service>.poison" (durable quorum queue);
//   - one durable quorum queue "<service>.<group>" per consumer group, shared
//     by every replica (x-single-active-consumer, x-delivery-limit,
//     x-dead-letter-exchange), bound with the group's binding keys.
//
// Binding keys use AMQP topic semantics (see Match): "db.health.#" for
// everything, "db.health.state_changed.*" for transitions,
// "db.health.*.postgres" for one kind; "db.health.*" matches nothing.
//
// # Publishing
//
// Publish sends a batch with publisher confirms and waits for them, bounded
// by Config.PublishTimeout: a stalled network makes it fail in time instead
// of blocking, and while the broker signals a resource alarm
// (connection.blocked) it fails at once with ErrBlocked. Messages go out on
// Config.ChannelPoolSize channels, each owned by a writer goroutine, chosen
// by the event's subject so that one target's events keep their order. A
// channel closed because the exchange is missing makes the next publish
// declare the topology again. Transitions (every event but HealthChecked)
// are published mandatory: one the broker returns, or one confirmed while
// a durable group queue bound to its key is missing (it then only reached
// the alternate exchange's queue or per-replica queues), fails with
// ErrUnroutable, after the topology was declared again; the outbox relay
// publishes it again. Returns are matched to their message on the channel
// it went out on (returnTracker): the broker sends a basic.return before
// the message's basic.ack. PublishAsync queues one event into a bounded
// buffer drained by a few workers; it never blocks and drops (counted and
// logged) when the buffer is full or publishing failed twice. A message
// reported as not confirmed may still have been enqueued: consumers must be
// idempotent.
//
// # Consuming
//
// AddConsumer registers a handler for a group; Run consumes through a
// watermill Router with the middlewares Recoverer, CorrelationID,
// PoisonQueue, Retry and Timeout. Up to Config.Concurrency events of a
// group are handled at once, never two about the same subject: each
// target's events are handled one at a time, in queue order. Acks are
// batched (basic.ack multiple). Invalid events (events.ErrInvalid) go to
// the poison queue at once; other handler errors are retried in process and
// then poisoned, unless wrapped with Requeue, in which case the delivery is
// returned to the queue and the broker dead-letters it to the poison queue
// after Config.DeliveryLimit deliveries. Connections and subscriptions are
// re-established after the broker or the network drops them.
//
// The embedded bus routes with Match, keeps nothing on disk and hands a
// group one event at a time.
//
// # Message conversion: watermill-amqp's DefaultMarshaler
//
// Events cross the AMQP boundary through watermill-amqp v3.1.0's
// DefaultMarshaler (package github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp),
// the same conversion its own publisher and subscriber use, configured in
// newMarshaler:
//
//   - Marshal turns the watermill message of an event (UUID = event id,
//     payload = the CloudEvent JSON, metadata "subject") into the
//     publishing: body, string headers, the UUID in the header
//     "_watermill_message_uuid" (MessageUUIDHeaderKey, the default, so a
//     watermill-amqp client reads the event id) and persistent delivery
//     (NotPersistentDeliveryMode false). Its PostprocessPublishing copies
//     the UUID to the AMQP message_id. The properties that come from the
//     event rather than from a watermill message (type, timestamp) and the
//     constant ones (content_type, app_id) are set on the publishing it
//     returns; the routing key is not part of a publishing. Poisoned
//     messages go back out through Marshal too, long headers cut.
//   - Unmarshal turns a delivery into the watermill message handed to the
//     router. It accepts string headers only, and the broker adds others
//     (x-delivery-count, a number, on quorum-queue redelivery; x-death, an
//     array of tables, when it dead-letters): its PreprocessDelivery
//     (stringHeaders) first makes every header a string (numbers, times and
//     booleans formatted, tables and arrays as JSON, void dropped). The
//     message id is then the AMQP message_id when set, else the UUID
//     header, and the delivery's routing key, type, redelivered flag and
//     correlation id are added as metadata. Unmarshal checks the UUID
//     header before PreprocessDelivery runs, so a delivery whose UUID header
//     is not a string is still rejected: it is handed to the router marked,
//     and poisoned as events.ErrInvalid without reaching the handler.
//
// # Why not watermill-amqp's transport
//
// Only the marshaler is used. watermill-amqp v3.1.0 reconnects through a
// ConnectionWrapper that writes its connection fields without
// synchronisation (a data race the race detector reports on every forced
// close, watermill issue #693), and its pooled channel provider loses a
// pool slot whenever reopening a channel fails (watermill-amqp PR #37),
// which eventually wedges every publisher. This package therefore keeps
// the AMQP transport (connections, reconnects, confirms, consumers) on
// amqp091-go and uses watermill for the Router, its middlewares and the
// gochannel pub/sub. watermill-amqp's Config, QueueConfig, ExchangeConfig
// and TopologyBuilder are not used either: they configure that transport,
// and its builder declares one queue, one exchange and one binding per
// topic with fixed arguments, whereas
// the topology above (alternate and dead-letter exchanges, bounded poison
// and unrouted queues, quorum group queues, per-replica queues, declared
// again after a 404) reads more plainly as the amqp091 declarations in
// topology.go.
package bus
