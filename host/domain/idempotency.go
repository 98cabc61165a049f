package domain

import "time"

// IdempotencyRecord remembers the run made for a request sent with an
// Idempotency-Key, so that the same request again replays that run.
type IdempotencyRecord struct {
	Key        string    `json:"key"` // scoped: caller identity + "\x00" + Idempotency-Key
	BodyDigest []byte    `json:"body_digest"`
	RunID      string    `json:"run_id"` // "" while the first request is being admitted
	Status     int       `json:"status"` // legacy: the HTTP status of a recorded answer
	Response   []byte    `json:"response,omitempty"`
	Mode       string    `json:"mode,omitempty"` // how the first request asked to be answered
	CreatedAt  time.Time `json:"created_at"`
}
