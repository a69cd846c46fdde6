package notify

import (
	"strings"
	"testing"
)

func TestDefaultTemplate(t *testing.T) {
	tm, err := NewTemplate(TemplateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := tm.Render(sample())
	if err != nil {
		t.Fatal(err)
	}
	if want := "[FIRING:critical] postgres/orders is DOWN"; m.Title != want {
		t.Errorf("title %q, want %q", m.Title, want)
	}
	for _, want := range []string{"Reason: connect: connection refused", "Started: 2026-12-01T10:00:00Z", "Alert: postgres/orders:1:3", "Details: http://dbhealth.example/"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "Resolved:") {
		t.Errorf("firing text mentions Resolved:\n%s", m.Text)
	}
	r, err := tm.Render(resolvedSample())
	if err != nil {
		t.Fatal(err)
	}
	if want := "[RESOLVED] postgres/orders is UP"; r.Title != want {
		t.Errorf("resolved title %q, want %q", r.Title, want)
	}
	if !strings.Contains(r.Text, "Resolved: 2026-12-01T10:05:00Z") {
		t.Errorf("resolved text:\n%s", r.Text)
	}
}

func TestTemplateOverrideAndEscaping(t *testing.T) {
	tm, err := NewTemplate(TemplateConfig{Title: "{{.Target.Name | upper}}\nsecond line", Body: "<b>{{.Reason}}</b>"})
	if err != nil {
		t.Fatal(err)
	}
	n := sample()
	n.Reason = `<script>alert("x")</script> & more`
	m, err := tm.Render(n)
	if err != nil {
		t.Fatal(err)
	}
	if m.Title != "ORDERS second line" {
		t.Errorf("title %q: want one line", m.Title)
	}
	if m.Text != "<b>"+n.Reason+"</b>" {
		t.Errorf("text %q: plain text must not be escaped", m.Text)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "<b>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more</b>") {
		t.Errorf("HTML not escaped as expected:\n%s", m.HTML)
	}
}

func TestTemplateErrors(t *testing.T) {
	cases := []struct {
		cfg  TemplateConfig
		want string
	}{
		{TemplateConfig{Title: "{{.Nope"}, "title:"},
		{TemplateConfig{Body: "{{if}}"}, "body:"},
		{TemplateConfig{Body: "{{.NoSuchField}}"}, "body:"},
		{TemplateConfig{Title: "{{nosuchfunc .}}"}, "title:"},
	}
	for _, c := range cases {
		if _, err := NewTemplate(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewTemplate(%+v) = %v, want error with %q", c.cfg, err, c.want)
		}
	}
}
