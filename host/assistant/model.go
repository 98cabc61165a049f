package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
)

// modelClient calls one model block's chat completions endpoint through
// the official SDK.
type modelClient struct {
	cfg  config.Model
	chat openai.ChatCompletionService
}

func newModelClient(m config.Model, hc *http.Client) *modelClient {
	// The service is built without openai.NewClient so that OPENAI_* variables
	// of the host's environment never reach a model they were not meant for.
	chat := openai.NewChatCompletionService(
		option.WithHTTPClient(hc),
		option.WithBaseURL(strings.TrimRight(m.BaseURL, "/")+"/"),
		option.WithAPIKey(m.APIKey),
		option.WithMaxRetries(0),
	)
	return &modelClient{cfg: m, chat: chat}
}

// ToolCall is a function call the model asked for, as the Chat Completions
// API and the Assistants API's required_action show it.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall is a tool call's function name and JSON arguments.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Usage counts tokens.
type Usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

func (u *Usage) add(o Usage) {
	u.PromptTokens += o.PromptTokens
	u.CompletionTokens += o.CompletionTokens
	u.TotalTokens += o.TotalTokens
}

// answer is one model answer.
type answer struct {
	Content      string
	ToolCalls    []ToolCall
	FinishReason string
	Usage        Usage
}

// delta is one piece of a streamed answer.
type delta struct {
	Content   string          `json:"content,omitempty"`
	ToolCalls []toolCallDelta `json:"tool_calls,omitempty"`
}

type toolCallDelta struct {
	Index    int    `json:"index"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments,omitempty"`
	} `json:"function"`
}

// request is what one model call sends.
type request struct {
	Messages   []openai.ChatCompletionMessageParamUnion
	Tools      []openai.ChatCompletionToolUnionParam
	ToolChoice string // "", "auto", "required"
}

func (m *modelClient) params(req request) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{Model: shared.ChatModel(m.cfg.Model), Messages: req.Messages, Tools: req.Tools}
	if m.cfg.MaxTokens > 0 {
		p.MaxTokens = openai.Int(int64(m.cfg.MaxTokens))
	}
	if req.ToolChoice != "" && len(req.Tools) > 0 {
		p.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String(req.ToolChoice)}
	}
	return p
}

// complete calls the model once. With onDelta it streams and hands each
// piece to onDelta as it arrives. Errors are faults with messages fit for a
// run's error: model_error for HTTP errors, timeouts and bad answers,
// cancelled when ctx ends.
func (m *modelClient) complete(ctx context.Context, req request, onDelta func(delta)) (*answer, error) {
	callCtx := ctx
	if m.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, m.cfg.Timeout)
		defer cancel()
	}
	var res *http.Response
	var ans *answer
	var err error
	if onDelta == nil {
		ans, err = m.completeOnce(callCtx, req, &res)
	} else {
		ans, err = m.completeStreamed(callCtx, req, &res, onDelta)
	}
	if err != nil {
		return nil, m.describe(ctx, callCtx, err, res)
	}
	return ans, nil
}

func (m *modelClient) completeOnce(ctx context.Context, req request, res **http.Response) (*answer, error) {
	cc, err := m.chat.New(ctx, m.params(req), option.WithResponseInto(res))
	if err != nil {
		return nil, err
	}
	if len(cc.Choices) == 0 {
		return nil, errNoChoices
	}
	msg := cc.Choices[0].Message
	ans := &answer{Content: msg.Content, FinishReason: cc.Choices[0].FinishReason,
		Usage: Usage{cc.Usage.PromptTokens, cc.Usage.CompletionTokens, cc.Usage.TotalTokens}}
	for _, tc := range msg.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			continue
		}
		ans.ToolCalls = append(ans.ToolCalls, ToolCall{ID: tc.ID, Type: "function",
			Function: FunctionCall{Name: tc.Function.Name, Arguments: tc.Function.Arguments}})
	}
	return ans, nil
}

var errNoChoices = errors.New("the answer has no choices")

func (m *modelClient) completeStreamed(ctx context.Context, req request, res **http.Response, onDelta func(delta)) (*answer, error) {
	params := m.params(req)
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := m.chat.NewStreaming(ctx, params, option.WithResponseInto(res))
	defer stream.Close()
	var content strings.Builder
	acc := toolCallAccumulator{}
	ans := &answer{}
	chunks := 0
	for stream.Next() {
		chunk := stream.Current()
		chunks++
		if chunk.Usage.TotalTokens > 0 {
			ans.Usage = Usage{chunk.Usage.PromptTokens, chunk.Usage.CompletionTokens, chunk.Usage.TotalTokens}
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			if ch.FinishReason != "" {
				ans.FinishReason = ch.FinishReason
			}
			d := delta{Content: ch.Delta.Content}
			content.WriteString(ch.Delta.Content)
			for _, tc := range ch.Delta.ToolCalls {
				td := acc.add(tc)
				d.ToolCalls = append(d.ToolCalls, td)
			}
			if d.Content != "" || len(d.ToolCalls) > 0 {
				onDelta(d)
			}
		}
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	if chunks == 0 {
		return nil, errors.New("the stream ended without a chunk")
	}
	ans.Content = content.String()
	ans.ToolCalls = acc.calls()
	return ans, nil
}

// toolCallAccumulator puts streamed tool call pieces together: pieces with
// the same index belong to one call. Servers that leave the index out
// (always 0) but start each call with a new id still get separate calls.
type toolCallAccumulator struct {
	list  []*ToolCall
	byIdx map[int]*ToolCall
	last  *ToolCall
}

func (a *toolCallAccumulator) add(tc openai.ChatCompletionChunkChoiceDeltaToolCall) toolCallDelta {
	if a.byIdx == nil {
		a.byIdx = map[int]*ToolCall{}
	}
	idx := int(tc.Index)
	if idx < 0 {
		idx = 0
	}
	indexed := tc.JSON.Index.Valid()
	cur := a.last
	if indexed {
		cur = a.byIdx[idx]
	}
	if cur == nil || (tc.ID != "" && cur.ID != "" && tc.ID != cur.ID) {
		if !indexed {
			idx = len(a.list) // no index given: a new id starts a new call
		}
		cur = &ToolCall{Type: "function"}
		a.byIdx[idx] = cur
		a.list = append(a.list, cur)
	}
	a.last = cur
	if tc.ID != "" {
		cur.ID = tc.ID
	}
	cur.Function.Name += tc.Function.Name
	cur.Function.Arguments += tc.Function.Arguments
	d := toolCallDelta{Index: idx, ID: tc.ID, Type: tc.Type}
	d.Function.Name, d.Function.Arguments = tc.Function.Name, tc.Function.Arguments
	return d
}

func (a *toolCallAccumulator) calls() []ToolCall {
	out := make([]ToolCall, 0, len(a.list))
	for _, c := range a.list {
		out = append(out, *c)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// describe turns a failed call into a fault naming the model.
func (m *modelClient) describe(parent, callCtx context.Context, err error, res *http.Response) error {
	who := fmt.Sprintf("model %q (%s at %s)", m.cfg.Name, m.cfg.Model, m.cfg.BaseURL)
	if parent.Err() != nil {
		return domain.WrapError(err, domain.CodeCancelled, "run cancelled while waiting for %s", who)
	}
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		return domain.WrapError(err, domain.CodeModelError, "%s did not answer within %s (the timeout of its model block in plugins.hcl)",
			who, m.cfg.Timeout)
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) || (res != nil && res.StatusCode >= 400) {
		status := 0
		msg := ""
		if apiErr != nil {
			status, msg = apiErr.StatusCode, apiErr.Message
		}
		if res != nil {
			if status == 0 {
				status = res.StatusCode
			}
			if msg == "" {
				msg = errorBodyMessage(res)
			}
		}
		if msg == "" {
			msg = http.StatusText(status)
		}
		return domain.WrapError(err, domain.CodeModelError, "%s answered HTTP %d: %s", who, status, msg)
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) {
		return domain.WrapError(err, domain.CodeModelError, "could not reach %s: %v", who, err)
	}
	if errors.Is(err, errNoChoices) {
		return domain.WrapError(err, domain.CodeModelError, "%s sent an answer without choices", who)
	}
	return domain.WrapError(err, domain.CodeModelError, "%s sent an answer toolhost could not read: %v", who, err)
}

// errorBodyMessage reads an error answer's message: OpenAI's
// {"error":{"message"}}, Ollama's {"error":"..."}, or the text itself.
func errorBodyMessage(res *http.Response) string {
	if res.Body == nil {
		return ""
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	var body struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  string          `json:"detail"`
	}
	if json.Unmarshal(raw, &body) == nil {
		var s string
		var obj struct {
			Message string `json:"message"`
		}
		switch {
		case json.Unmarshal(body.Error, &s) == nil && s != "":
			return s
		case json.Unmarshal(body.Error, &obj) == nil && obj.Message != "":
			return obj.Message
		case body.Message != "":
			return body.Message
		case body.Detail != "":
			return body.Detail
		}
	}
	return strings.TrimSpace(string(raw))
}

// messagesFor turns stored thread messages into chat messages, with the
// instructions first. Assistant tool calls without a stored answer (a run
// that ended while they were out) get one, so the conversation stays well
// formed for the model.
func messagesFor(instructions string, msgs []*domain.Message) []openai.ChatCompletionMessageParamUnion {
	var out []openai.ChatCompletionMessageParamUnion
	if strings.TrimSpace(instructions) != "" {
		out = append(out, openai.SystemMessage(instructions))
	}
	answered := map[string]bool{}
	for _, m := range msgs {
		if m.Role == "tool" {
			answered[m.ToolCallID] = true
		}
	}
	var pending []string // tool call ids of the last assistant message still unanswered
	flush := func() {
		for _, id := range pending {
			out = append(out, openai.ToolMessage("error: no result was recorded for this tool call (its run ended first)", id))
		}
		pending = nil
	}
	for _, m := range msgs {
		switch m.Role {
		case "user":
			flush()
			out = append(out, openai.UserMessage(m.Content))
		case "assistant":
			flush()
			calls := decodeToolCalls(m.ToolCalls)
			out = append(out, assistantParam(m.Content, calls))
			for _, c := range calls {
				if !answered[c.ID] {
					pending = append(pending, c.ID)
				}
			}
		case "tool":
			out = append(out, openai.ToolMessage(m.Content, m.ToolCallID))
		case "system":
			flush()
			out = append(out, openai.SystemMessage(m.Content))
		}
	}
	flush()
	return out
}

func decodeToolCalls(raw json.RawMessage) []ToolCall {
	if len(raw) == 0 {
		return nil
	}
	var calls []ToolCall
	if json.Unmarshal(raw, &calls) != nil {
		return nil
	}
	return calls
}

func assistantParam(content string, calls []ToolCall) openai.ChatCompletionMessageParamUnion {
	var p openai.ChatCompletionAssistantMessageParam
	if content != "" || len(calls) == 0 {
		p.Content.OfString = openai.String(content)
	}
	for _, c := range calls {
		p.ToolCalls = append(p.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
			OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
				ID:       c.ID,
				Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Function.Name, Arguments: c.Function.Arguments},
			},
		})
	}
	return openai.ChatCompletionMessageParamUnion{OfAssistant: &p}
}
