package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/events"
)

// ContentType is the AMQP content_type of every event: a CloudEvent in
// structured JSON mode.
const ContentType = "application/cloudevents+json"

// Metadata keys set on consumed watermill messages besides the AMQP headers.
const (
	MetaRoutingKey    = "routing_key"
	MetaType          = "type"
	MetaRedelivered   = "redelivered"
	MetaDeliveryCount = "x-delivery-count"
	// MetaSubject is the event's subject ("<type>/<name>"), also sent as an
	// AMQP header so consumers can order by subject without decoding.
	MetaSubject = "subject"
	// metaUndecodable marks a delivery the marshaler rejected; the handler
	// poisons it (and removes the mark).
	metaUndecodable = "_bus_undecodable"
)

// maxHeaderLen caps poison headers so they fit in one AMQP frame.
const maxHeaderLen = 4096

// newMarshaler is the conversion between watermill messages and AMQP
// messages: watermill-amqp's DefaultMarshaler, with persistent delivery,
// the message UUID both in watermill's UUID header (so watermill-amqp
// clients read it) and as the AMQP message_id, and every delivery header
// made a string before unmarshalling (the marshaler rejects any other
// type, and the broker adds numbers and tables).
func newMarshaler() wamqp.DefaultMarshaler {
	return wamqp.DefaultMarshaler{
		PreprocessDelivery:        stringHeaders,
		PostprocessPublishing:     messageIDFromUUID,
		NotPersistentDeliveryMode: false,
		MessageUUIDHeaderKey:      wamqp.DefaultMessageUUIDHeaderKey,
	}
}

// messageIDFromUUID sets a publishing's message_id to the UUID the
// marshaler put in its header.
func messageIDFromUUID(p amqp.Publishing) amqp.Publishing {
	p.MessageId, _ = p.Headers[wamqp.DefaultMessageUUIDHeaderKey].(string)
	return p
}

// toOutgoing encodes an envelope into the message published for it: the
// marshaler gives the body, the subject and UUID headers, the message_id
// (the event id) and persistent delivery; the event's type and time, the
// content type and app_id are set on the publishing it returns.
func toOutgoing(m wamqp.Marshaler, exchange, appID string, e events.Envelope) (*outgoing, error) {
	if e.ID == "" || e.Type == "" || e.Subject == "" {
		return nil, fmt.Errorf("%w: id, type and subject are required to publish", events.ErrInvalid)
	}
	body, err := events.Encode(e)
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %v", events.ErrInvalid, err)
	}
	msg := message.NewMessage(e.ID, body)
	msg.Metadata.Set(MetaSubject, e.Subject)
	pub, err := m.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("%w: marshal: %v", events.ErrInvalid, err)
	}
	ts := e.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	pub.ContentType = ContentType
	pub.Type = e.Type
	if e.Type == events.TypeHealthChecked {
		// Best effort and superseded by the next check: not written to
		// disk by the broker (transitions stay persistent).
		pub.DeliveryMode = amqp.Transient
	}
	pub.Timestamp = ts.UTC()
	pub.AppId = appID
	// Transitions are mandatory: one no queue takes is returned, and its
	// publish fails (ErrUnroutable), so it stays in the outbox. Checks
	// are best effort and superseded by the next ones: not mandatory, an
	// unbound one ends in the unrouted queue.
	mandatory := e.Type != events.TypeHealthChecked
	return &outgoing{exchange: exchange, key: e.RoutingKey(), subject: e.Subject, mandatory: mandatory, msg: pub}, nil
}

// toMessage turns an AMQP delivery into a watermill message through the
// marshaler, then adds the delivery's properties as metadata (routing key,
// type, redelivered, correlation id); the message id is the AMQP
// message_id, else watermill's UUID header. It never fails: a delivery the
// marshaler rejects (a UUID header that is not a string, which it checks
// before PreprocessDelivery) becomes a message marked metaUndecodable,
// which the handler sends to the poison queue.
func toMessage(m wamqp.Marshaler, d amqp.Delivery) *message.Message {
	msg, err := m.Unmarshal(d)
	if err != nil {
		msg = message.NewMessage(d.MessageId, d.Body)
		msg.Metadata.Set(metaUndecodable, err.Error())
	}
	if d.MessageId != "" {
		msg.UUID = d.MessageId
	}
	msg.Metadata.Set(MetaRoutingKey, d.RoutingKey)
	if d.Type != "" {
		msg.Metadata.Set(MetaType, d.Type)
	}
	if d.Redelivered {
		msg.Metadata.Set(MetaRedelivered, "true")
	}
	if d.CorrelationId != "" {
		middleware.SetCorrelationID(d.CorrelationId, msg)
	}
	return msg
}

// undecodable reports, and removes, the mark of a delivery the marshaler
// rejected.
func undecodable(msg *message.Message) error {
	reason, ok := msg.Metadata[metaUndecodable]
	if !ok {
		return nil
	}
	delete(msg.Metadata, metaUndecodable)
	return fmt.Errorf("%w: unmarshal AMQP delivery: %s", events.ErrInvalid, reason)
}

// stringHeaders is the marshaler's PreprocessDelivery: d with every header
// value a string, as watermill metadata must be. The broker adds numbers
// (x-delivery-count on redelivery) and arrays of tables (x-death when it
// dead-letters); numbers, booleans and times are formatted, tables and
// arrays become JSON, void values are dropped. The headers are copied, not
// changed in place, and only when one of them is not a string.
func stringHeaders(d amqp.Delivery) amqp.Delivery {
	if allStrings(d.Headers) {
		return d
	}
	h := make(amqp.Table, len(d.Headers))
	for k, v := range d.Headers {
		if s, ok := headerString(v); ok {
			h[k] = s
		}
	}
	d.Headers = h
	return d
}

func allStrings(t amqp.Table) bool {
	for _, v := range t {
		if _, ok := v.(string); !ok {
			return false
		}
	}
	return true
}

// subjectOf is the subject a delivery is ordered by: its subject header,
// else the part of its message id before the first ':' (this service's
// ids start with the subject), else the whole id.
func subjectOf(d amqp.Delivery) string {
	if s, ok := d.Headers[MetaSubject].(string); ok && s != "" {
		return s
	}
	if i := strings.IndexByte(d.MessageId, ':'); i > 0 {
		return d.MessageId[:i]
	}
	return d.MessageId
}

// toPoisonPublishing turns a watermill message (with the poison metadata
// the PoisonQueue middleware added) back into an AMQP message through the
// marshaler, cutting header values to maxHeaderLen (a panic's stack trace
// in reason_poisoned).
func toPoisonPublishing(m wamqp.Marshaler, msg *message.Message) (amqp.Publishing, error) {
	pub, err := m.Marshal(msg)
	if err != nil {
		return amqp.Publishing{}, err
	}
	for k, v := range pub.Headers {
		if s, ok := v.(string); ok && len(s) > maxHeaderLen {
			pub.Headers[k] = s[:maxHeaderLen]
		}
	}
	pub.Type = msg.Metadata.Get(MetaType)
	pub.Timestamp = time.Now().UTC()
	return pub, nil
}

// headerString renders a header value as a string: scalars formatted,
// tables and arrays as JSON; false for void and for values JSON rejects.
func headerString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case []byte:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	case int, int8, int16, int32, int64, uint8, uint16, uint32:
		return fmt.Sprint(x), true // base 10
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), true
	case amqp.Decimal:
		return fmt.Sprintf("%de-%d", x.Value, x.Scale), true
	}
	b, err := json.Marshal(v) // amqp.Table, []any (x-death)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// Delivery describes how an event reached a handler.
type Delivery struct {
	// Group is the consumer group (handler) name.
	Group string
	// RoutingKey is the key the event was published with.
	RoutingKey string
	// Redelivered is true when the broker delivered the message before.
	Redelivered bool
	// Count is the broker's x-delivery-count: earlier deliveries of the
	// message to this group's queue (0 on the first).
	Count int
	// Metadata holds the message's string headers.
	Metadata map[string]string
}

type deliveryKey struct{}

// DeliveryFrom returns the Delivery of the event a handler is processing.
func DeliveryFrom(ctx context.Context) (Delivery, bool) {
	d, ok := ctx.Value(deliveryKey{}).(Delivery)
	return d, ok
}

func deliveryOf(group string, msg *message.Message) Delivery {
	n, _ := strconv.Atoi(msg.Metadata.Get(MetaDeliveryCount))
	return Delivery{
		Group:       group,
		RoutingKey:  msg.Metadata.Get(MetaRoutingKey),
		Redelivered: msg.Metadata.Get(MetaRedelivered) == "true" || n > 0,
		Count:       n,
		Metadata:    msg.Metadata,
	}
}
