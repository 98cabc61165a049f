// Package assistant runs an assistant on a thread: it sends the thread's
// messages to an OpenAI-compatible chat completions endpoint with the
// installed actions as tools, executes the tool calls as action runs, and
// appends the answers to the thread.
package assistant

// Service runs assistants on threads.
type Service struct{}
