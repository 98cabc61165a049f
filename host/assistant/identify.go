package assistant

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/openai/openai-go/v3"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// Identified is the answer of POST /v1/actions/identify.
type Identified struct {
	Identified bool                       `json:"identified"`
	ActionID   *string                    `json:"actionId"`
	Input      map[string]json.RawMessage `json:"input"`
	Used       struct {
		Prompt string `json:"prompt"`
		Model  string `json:"model,omitempty"`
	} `json:"used"`
	// Reason is the model's text when it picked no action.
	Reason string `json:"reason,omitempty"`
}

const identifyInstructions = "You pick the one tool that does what the user asks and call it once, " +
	"filling its arguments from the request. Leave out arguments the request does not give. " +
	"If no tool fits, call none and say why in one sentence."

// Identify asks the model which action the prompt is for and with which
// input. modelName picks the model (empty: the first).
func (s *Service) Identify(ctx context.Context, prompt, modelName string) (*Identified, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	prompt = strings.TrimSpace(prompt)
	if prompt == "" {
		return nil, fieldError("prompt", "is required: say what the action should do")
	}
	m, err := s.model(modelName)
	if err != nil {
		return nil, err
	}
	ts, err := newToolset(s.runner.Catalog(), nil)
	if err != nil {
		return nil, err
	}
	out := &Identified{Input: map[string]json.RawMessage{}}
	out.Used.Prompt, out.Used.Model = prompt, m.cfg.Name
	if len(ts.allowed) == 0 {
		out.Reason = "no actions are installed"
		return out, nil
	}
	ans, err := m.complete(ctx, request{
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(identifyInstructions), openai.UserMessage(prompt)},
		Tools:    ts.params(),
	}, nil)
	if err != nil {
		return nil, err
	}
	for _, c := range ans.ToolCalls {
		a, _ := ts.lookup(c.Function.Name)
		if a == nil {
			continue
		}
		args, err := decodeArgs(c.Function.Arguments)
		if err != nil {
			return nil, domain.WrapError(err, domain.CodeModelError, "model %q picked %s but sent malformed arguments: %v", m.cfg.Name, a.Alias, err)
		}
		id := a.ID
		out.Identified, out.ActionID, out.Input = true, &id, args
		return out, nil
	}
	out.Reason = strings.TrimSpace(ans.Content)
	return out, nil
}

// IdentifyKind is the kind of the run an identification makes.
const IdentifyKind = "identify"

// IdentifyRun is Identify as a run: it goes through the core's pipeline,
// so the model call is in history (kind "identify", with the caller and
// the door) and can be followed and cancelled like any run. It waits for
// the run's end (ctx ending stops the wait, not the run).
func (s *Service) IdentifyRun(ctx context.Context, prompt, modelName string, caller domain.Caller, source string) (*Identified, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(prompt) == "" {
		return nil, fieldError("prompt", "is required: say what the action should do")
	}
	if _, err := s.model(modelName); err != nil {
		return nil, err
	}
	in, _ := json.Marshal(map[string]string{"prompt": prompt, "model": modelName})
	job := &core.Job{
		Run: &domain.Run{Kind: IdentifyKind, Input: in}, Target: IdentifyKind, Request: in,
		Do: func(ctx context.Context, _ *core.JobControl) (json.RawMessage, error) {
			out, err := s.Identify(ctx, prompt, modelName)
			if err != nil {
				return nil, err
			}
			return json.Marshal(out)
		},
	}
	res, err := s.runner.Submit(ctx, core.Call{Job: job, Caller: caller, Source: source})
	if err != nil {
		return nil, err
	}
	run, err := s.runner.Wait(ctx, res.Run.ID)
	if err != nil {
		return nil, err
	}
	if run.Status != domain.StatusSucceeded {
		e := &domain.Error{Code: domain.CodeInternal, Message: "identification " + run.Status}
		if run.Error != nil {
			e = &domain.Error{Code: run.Error.Code, Message: run.Error.Message}
		}
		return nil, e
	}
	out := new(Identified)
	if err := json.Unmarshal(run.Output, out); err != nil {
		return nil, domain.WrapError(err, domain.CodeInternal, "decoding the identification of run %s", run.ID)
	}
	return out, nil
}

// FillInput asks the model (the first configured) for the input of action
// a that the prompt describes. The caller merges it under the keys it was
// given explicitly, and checks the result.
func (s *Service) FillInput(ctx context.Context, a *core.Action, prompt string) (map[string]json.RawMessage, error) {
	return s.FillInputWith(ctx, a, prompt, "")
}

// FillInputWith is FillInput with a model picked by name.
func (s *Service) FillInputWith(ctx context.Context, a *core.Action, prompt, modelName string) (map[string]json.RawMessage, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	prompt = strings.TrimSpace(prompt)
	if prompt == "" {
		return nil, fieldError("prompt", "must not be empty")
	}
	m, err := s.model(modelName)
	if err != nil {
		return nil, err
	}
	name := ToolName(a)
	ans, err := m.complete(ctx, request{
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Call the tool " + name + " once, with arguments taken from the user's request. Leave out arguments the request does not give."),
			openai.UserMessage(prompt),
		},
		Tools:      []openai.ChatCompletionToolUnionParam{toolParam(name, a)},
		ToolChoice: "required",
	}, nil)
	if err != nil {
		return nil, err
	}
	for _, c := range ans.ToolCalls {
		if c.Function.Name != name && c.Function.Name != a.ID && c.Function.Name != a.Alias {
			continue
		}
		args, err := decodeArgs(c.Function.Arguments)
		if err != nil {
			return nil, domain.WrapError(err, domain.CodeModelError, "model %q sent malformed arguments for %s: %v", m.cfg.Name, a.Alias, err)
		}
		return args, nil
	}
	text := strings.TrimSpace(ans.Content)
	if len(text) > 300 {
		text = text[:300] + "..."
	}
	return nil, domain.Errorf(domain.CodeModelError, "model %q did not fill the input of %s from the prompt (it answered: %q)", m.cfg.Name, a.Alias, text)
}
