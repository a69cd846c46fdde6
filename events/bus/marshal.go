package bus

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

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
	MetaSubject    = "subject"
	metaUUIDHeader = "_watermill_message_uuid"
)

// maxHeaderLen caps poison headers so they fit in one AMQP frame.
const maxHeaderLen = 4096

// toOutgoing encodes an envelope into the message published for it.
func toOutgoing(exchange, appID string, e events.Envelope) (*outgoing, error) {
	if e.ID == "" || e.Type == "" || e.Subject == "" {
		return nil, fmt.Errorf("%w: id, type and subject are required to publish", events.ErrInvalid)
	}
	body, err := events.Encode(e)
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %v", events.ErrInvalid, err)
	}
	ts := e.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	return &outgoing{
		exchange: exchange,
		key:      e.RoutingKey(),
		subject:  e.Subject,
		msg: amqp.Publishing{
			ContentType:  ContentType,
			DeliveryMode: amqp.Persistent,
			MessageId:    e.ID,
			Type:         e.Type,
			Timestamp:    ts.UTC(),
			AppId:        appID,
			Headers:      amqp.Table{MetaSubject: e.Subject},
			Body:         body,
		},
	}, nil
}

// toMessage turns an AMQP delivery into a watermill message. It never
// fails: headers that are not strings (x-delivery-count is a number, x-death
// a list of tables) are converted or skipped rather than rejected, unlike
// watermill-amqp's DefaultMarshaler.
func toMessage(d amqp.Delivery) *message.Message {
	id := d.MessageId
	if id == "" {
		id, _ = d.Headers[metaUUIDHeader].(string)
	}
	msg := message.NewMessage(id, d.Body)
	for k, v := range d.Headers {
		if s, ok := headerString(v); ok && k != metaUUIDHeader {
			msg.Metadata.Set(k, s)
		}
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
// the PoisonQueue middleware added) back into an AMQP message.
func toPoisonPublishing(msg *message.Message) amqp.Publishing {
	headers := make(amqp.Table, len(msg.Metadata))
	for k, v := range msg.Metadata {
		if len(v) > maxHeaderLen { // a panic's stack trace in reason_poisoned
			v = v[:maxHeaderLen]
		}
		headers[k] = v
	}
	return amqp.Publishing{
		DeliveryMode: amqp.Persistent,
		MessageId:    msg.UUID,
		Type:         msg.Metadata.Get(MetaType),
		Timestamp:    time.Now().UTC(),
		Headers:      headers,
		Body:         msg.Payload,
	}
}

// headerString renders scalar header values; tables and arrays are skipped.
func headerString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), true
	case amqp.Decimal:
		return fmt.Sprintf("%de-%d", x.Value, x.Scale), true
	}
	return "", false
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
