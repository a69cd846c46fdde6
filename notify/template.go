package notify

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

// The default message template of the Slack and e-mail receivers. The
// data is the Notification; its Condition method gives DOWN, DEGRADED or
// UP. Besides text/template's builtins, templates may call upper, lower
// and time (a time as RFC 3339 in UTC).
const (
	DefaultTitle = `{{if eq .State "resolved"}}[RESOLVED]{{else}}[FIRING:{{.Severity}}]{{end}} {{.Target.Type}}/{{.Target.Name}} is {{.Condition}}`
	DefaultBody  = `{{.Target.Type}}/{{.Target.Name}} is {{.Condition}}{{if eq .State "resolved"}} again{{end}}.
Reason: {{.Reason}}
Severity: {{.Severity}}
Started: {{time .StartedAt}}
{{- with .ResolvedAt}}
Resolved: {{time .}}{{end}}
Alert: {{.AlertID}}
{{- with .Link}}
Details: {{.}}{{end}}`
)

// TemplateConfig overrides the title and/or body of a receiver's
// messages with Go text/template strings; empty fields keep the
// defaults. The HTML part of an e-mail runs the body through html/template,
// so values are escaped there (and the body may contain HTML tags).
type TemplateConfig struct {
	Title string `yaml:"title,omitempty" json:"title,omitempty"`
	Body  string `yaml:"body,omitempty" json:"body,omitempty"`
}

// Message is a rendered notification.
type Message struct {
	// Title is one line (line breaks removed): the e-mail subject.
	Title string
	// Text is the plain-text body.
	Text string
	// HTML is an HTML document showing the title and the body.
	HTML string
}

// Template renders Messages.
type Template struct {
	title, body *texttemplate.Template
	html        *htmltemplate.Template
}

var templateFuncs = map[string]any{
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"time":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

// htmlDoc frames the HTML body; the body template is added as "body".
const htmlDoc = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h2>{{.Title}}</h2>
<div style="white-space: pre-wrap; font-family: sans-serif">{{template "body" .N}}</div>
</body></html>
`

// NewTemplate parses cfg over the defaults and renders a sample
// notification (firing and resolved) to catch errors that only show when
// a template runs, such as an unknown field.
func NewTemplate(cfg TemplateConfig) (*Template, error) {
	title, body := cfg.Title, cfg.Body
	if title == "" {
		title = DefaultTitle
	}
	if body == "" {
		body = DefaultBody
	}
	t := &Template{}
	var err error
	if t.title, err = texttemplate.New("title").Funcs(templateFuncs).Option("missingkey=error").Parse(title); err != nil {
		return nil, fmt.Errorf("title: %w", err)
	}
	if t.body, err = texttemplate.New("body").Funcs(templateFuncs).Option("missingkey=error").Parse(body); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	doc := htmltemplate.Must(htmltemplate.New("doc").Funcs(templateFuncs).Parse(htmlDoc))
	if t.html, err = doc.New("body").Parse(body); err != nil {
		return nil, fmt.Errorf("body (HTML): %w", err)
	}
	at := time.Unix(0, 0)
	for _, n := range []Notification{{State: StateFiring}, {State: StateResolved, ResolvedAt: &at, Link: "http://x"}} {
		if _, err := t.Render(n); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Render renders n.
func (t *Template) Render(n Notification) (Message, error) {
	var title, text, html bytes.Buffer
	if err := t.title.Execute(&title, n); err != nil {
		return Message{}, fmt.Errorf("title: %w", err)
	}
	if err := t.body.Execute(&text, n); err != nil {
		return Message{}, fmt.Errorf("body: %w", err)
	}
	m := Message{Title: oneLine(title.String()), Text: text.String()}
	if err := t.html.ExecuteTemplate(&html, "doc", struct {
		Title string
		N     Notification
	}{m.Title, n}); err != nil {
		return Message{}, fmt.Errorf("body (HTML): %w", err)
	}
	m.HTML = html.String()
	return m, nil
}

// oneLine joins the lines of s with spaces and trims it.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
