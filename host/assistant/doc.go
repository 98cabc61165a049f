// Package assistant runs an assistant on a thread: it sends the thread's
// messages to an OpenAI-compatible chat completions endpoint (OpenAI,
// Ollama, vLLM, llama.cpp's server) with the installed actions as tools,
// executes the tool calls as action runs linked to the thread run, and
// appends the answers to the thread. It also lets a model pick an action
// for a prompt (identify) and fill an action's input from a prompt.
//
// A thread run is a host.Job, so it is recorded, followed, streamed and
// cancelled like an action run. Its events:
//
//	thread.run.step         {step, type: model_call|tool_calls|message_creation, status, ...}
//	thread.message.delta    {id, object, run_id, delta: {content | tool_calls}} (streamed runs only)
//	thread.message.created  the message as GET /v1/threads/{id}/messages shows it
//	thread.run.requires_action {id, thread_id, required_action, expires_at} (tool_execution "client")
//
// besides the runner's own run.created, run.running, run.requires_action and
// run.<final status>.
package assistant
