package notify

// Muter decides whether a notification is held back for now: a silence,
// a maintenance window, an acknowledgement. A muted notification is not
// sent and not dropped: it stays pending and is asked about again, so it
// is sent once the mute ends (if it is still due). Implementations must be
// fast and safe for concurrent use.
type Muter interface {
	Muted(n Notification) (reason string, muted bool)
}

// MuteFunc adapts a function to Muter.
type MuteFunc func(n Notification) (reason string, muted bool)

// Muted calls f.
func (f MuteFunc) Muted(n Notification) (string, bool) { return f(n) }

// Mutes is the Muter of several: the first that mutes wins.
type Mutes []Muter

// Muted asks each muter in turn.
func (ms Mutes) Muted(n Notification) (string, bool) {
	for _, m := range ms {
		if m == nil {
			continue
		}
		if reason, ok := m.Muted(n); ok {
			return reason, true
		}
	}
	return "", false
}
