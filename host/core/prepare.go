package core

import (
	"context"

	"github.com/toolhost/toolhost/host/domain"
)

// Prepared is a call resolved and checked, ready to submit.
type Prepared struct {
	Action *Action
	input  []byte // checked, secrets intact
}

// Prepare resolves a call's action and decodes and checks its arguments,
// without running anything (the assistant checks every tool call of a
// step before it runs any). A prompt is not filled here.
func (r *Runner) Prepare(c Call) (*Prepared, error) {
	a, err := r.resolve(c.Action)
	if err != nil {
		return nil, err
	}
	in, err := a.decodeArgs(c.Args, c.InputOnly)
	if err != nil {
		return nil, err
	}
	if in.prompt != "" {
		return nil, domain.FieldErrorf(domain.CodeInvalidRequest, "prompt", "is not taken here", "prompt is not taken here: send the input itself")
	}
	checked, err := a.CheckInput(in.input)
	if err != nil {
		return nil, err
	}
	return &Prepared{Action: a, input: checked}, nil
}

// resolve finds the action a reference (id or alias) names.
func (r *Runner) resolve(ref string) (*Action, error) {
	a := r.Catalog().Action(ref)
	if a == nil {
		return nil, domain.Errorf(domain.CodeNotFound, "action %q not found; use an id from GET /v1/actions or plugin.actionKey", ref)
	}
	return a, nil
}

// fill asks the model for the input the prompt describes and adds the keys
// input does not have: explicit input keys win.
func (r *Runner) fill(ctx context.Context, a *Action, prompt string, input map[string]any) (map[string]any, error) {
	if r.filler == nil {
		return nil, domain.FieldErrorf(domain.CodeInvalidRequest, "prompt", "needs a model", "prompt needs a model: add a model block to plugins.hcl")
	}
	raw, err := r.filler.FillInput(ctx, a, prompt)
	if err != nil {
		return nil, err
	}
	filled, err := DecodeInput(raw)
	if err != nil {
		return nil, err
	}
	for k, v := range filled {
		if _, given := input[k]; !given {
			input[k] = v
		}
	}
	return input, nil
}
