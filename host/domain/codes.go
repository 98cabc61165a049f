package domain

// Error codes. They are part of the API contract: stable, lower snake case.
const (
	CodeInvalidInput      = "invalid_input"
	CodeInvalidRequest    = "invalid_request"
	CodeNotFound          = "not_found"
	CodeUnauthorized      = "unauthorized"
	CodeForbidden         = "forbidden"
	CodeMethodNotAllowed  = "method_not_allowed"
	CodeConflict          = "conflict"
	CodeTooLarge          = "request_too_large"
	CodeRateLimited       = "rate_limited"
	CodeActionFailed      = "action_failed"
	CodeOutputInvalid     = "output_invalid"
	CodePluginUnavailable = "plugin_unavailable"
	CodeMisconfigured     = "plugin_misconfigured"
	CodeActionTimeout     = "action_timeout"
	CodeCancelled         = "cancelled"
	CodeShuttingDown      = "shutting_down"
	CodeInterrupted       = "interrupted"
	CodeModelError        = "model_error"
	CodeExpired           = "expired" // a run waited for tool outputs too long
	CodeInternal          = "internal"
	// CodeNotRecorded: the run finished but its final record could not be
	// made durable, so history will not show it.
	CodeNotRecorded = "not_recorded"
	// CodeStorageFull: the data directory's filesystem has no room for the
	// record a run needs; nothing was run.
	CodeStorageFull = "storage_full"
	// CodeStorageUnavailable: the store cannot be written or reached.
	CodeStorageUnavailable = "storage_unavailable"
)
