package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []EnvEntry
	}{
		{"empty", "", nil},
		{"blank and comments", "\n  \n# comment\n   # indented comment\n", nil},
		{"plain", "A=1\nB = two \n", []EnvEntry{{"A", "1", 1}, {"B", "two", 2}}},
		{"export prefix", "export A=1\nexport\tB=2\n", []EnvEntry{{"A", "1", 1}, {"B", "2", 2}}},
		{"key named export", "export=1\n", []EnvEntry{{"export", "1", 1}}},
		{"empty value", "A=\n", []EnvEntry{{"A", "", 1}}},
		{"inline comment", "A=1 # one\nB=x#y\n", []EnvEntry{{"A", "1", 1}, {"B", "x#y", 2}}},
		{"value with equals", "URL=amqp://u:p@h/?a=b\n", []EnvEntry{{"URL", "amqp://u:p@h/?a=b", 1}}},
		{"single quotes literal", `A='x # y \n $B'`, []EnvEntry{{"A", `x # y \n $B`, 1}}},
		{"double quotes escapes", `A="l1\nl2\t\"q\" \\ \$x \z" # c`, []EnvEntry{{"A", "l1\nl2\t\"q\" \\ $x \\z", 1}}},
		{"quoted keeps spaces", `A="  x  "`, []EnvEntry{{"A", "  x  ", 1}}},
		{"crlf", "A=1\r\nB=2\r\n", []EnvEntry{{"A", "1", 1}, {"B", "2", 2}}},
		{"bom", "\ufeffA=1", []EnvEntry{{"A", "1", 1}}},
		{"duplicate keeps both in order", "A=1\nA=2", []EnvEntry{{"A", "1", 1}, {"A", "2", 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDotenv([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseDotenvErrors(t *testing.T) {
	const secretValue = "s3cr3t-value"
	tests := []struct {
		name, in, want string
	}{
		{"no equals", "A=1\n" + secretValue, "line 2: expected KEY=VALUE"},
		{"bad key", "1A=" + secretValue, `line 1: invalid variable name "1A"`},
		{"key with dash", "A-B=" + secretValue, `invalid variable name "A-B"`},
		{"empty key", "=" + secretValue, `invalid variable name ""`},
		{"unterminated double", `A="` + secretValue, "line 1: A: unterminated double quote"},
		{"unterminated single", `A='` + secretValue, "line 1: A: unterminated single quote"},
		{"text after quote", `A="x"` + secretValue, "line 1: A: unexpected text after closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDotenv([]byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrDotenv) {
				t.Errorf("error does not wrap ErrDotenv: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("error echoes the value: %v", err)
			}
		})
	}
}
