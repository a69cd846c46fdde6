package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/dbhealth/database-service/config/secret"
)

// SlackConfig configures a Slack-compatible incoming webhook (Slack,
// Mattermost, Rocket.Chat): a JSON {"text": ...} POST.
type SlackConfig struct {
	// URL is the incoming-webhook URL. It is a secret: whoever has it can
	// post to the channel.
	URL secret.String `yaml:"url" json:"url"`
	// Username, IconEmoji and Channel override the webhook's defaults
	// where the server allows it.
	Username  string `yaml:"username,omitempty" json:"username,omitempty"`
	IconEmoji string `yaml:"icon_emoji,omitempty" json:"icon_emoji,omitempty"`
	Channel   string `yaml:"channel,omitempty" json:"channel,omitempty"`
	// Timeout bounds one attempt; DefaultTimeout when zero.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Template overrides the message (see TemplateConfig).
	Template TemplateConfig `yaml:"template,omitempty" json:"template,omitempty"`
}

// Slack is the Slack-compatible receiver.
type Slack struct {
	url   string
	cfg   SlackConfig
	tmpl  *Template
	http  httpPost
	shown string
}

// slackPayload is the body of an incoming-webhook POST.
type slackPayload struct {
	Text      string `json:"text"`
	Username  string `json:"username,omitempty"`
	IconEmoji string `json:"icon_emoji,omitempty"`
	Channel   string `json:"channel,omitempty"`
}

// NewSlack validates cfg and returns the receiver.
func NewSlack(cfg SlackConfig, deps Deps) (*Slack, error) {
	var errs []error
	u, err := validHTTPURL(cfg.URL.Reveal())
	if err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("timeout: negative"))
	}
	tmpl, err := NewTemplate(cfg.Template)
	if err != nil {
		errs = append(errs, fmt.Errorf("template.%w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Slack{
		url:   cfg.URL.Reveal(),
		cfg:   cfg,
		tmpl:  tmpl,
		http:  httpPost{client: deps.client(), now: deps.now(), timeout: cfg.Timeout.Or(DefaultTimeout)},
		shown: u.Scheme + "://" + u.Host + "/" + secret.Mask,
	}, nil
}

// Send posts the rendered title and body as the message text.
func (s *Slack) Send(ctx context.Context, n Notification) error {
	m, err := s.tmpl.Render(n)
	if err != nil {
		return Permanent(fmt.Errorf("slack: %w", err))
	}
	body, err := json.Marshal(slackPayload{Text: m.Title + "\n" + m.Text, Username: s.cfg.Username, IconEmoji: s.cfg.IconEmoji, Channel: s.cfg.Channel})
	if err != nil {
		return Permanent(fmt.Errorf("slack: %w", err))
	}
	return s.http.post(ctx, s.url, s.shown, http.Header{"Content-Type": {"application/json"}}, body)
}

// String describes the receiver without the secret URL.
func (s *Slack) String() string { return "slack " + s.shown }

var _ Sender = (*Slack)(nil)
