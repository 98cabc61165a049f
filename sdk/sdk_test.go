package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/internal/testbin"
	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

type in struct {
	Name string `json:"name" title:"Name" description:"A name."`
}

type out struct {
	Greeting string `json:"greeting" title:"Greeting"`
}

func hello(ctx context.Context, i in) (out, error) { return out{Greeting: "hi " + i.Name}, nil }

func plugin(actions ...sdk.Action) sdk.Plugin {
	return sdk.Plugin{Name: "p", Title: "P", Version: "1", Actions: actions}
}

func action(key, title string, h sdk.Handler) sdk.Action {
	return sdk.Action{Key: key, Title: title, Type: sdk.Read, Handler: h}
}

func TestDefinitionProblemsAreNamed(t *testing.T) {
	cases := []struct {
		name string
		p    sdk.Plugin
		want []string
	}{
		{"duplicate keys", plugin(action("a", "A", sdk.NewHandler(hello)), action("a", "B", sdk.NewHandler(hello))), []string{`actions[1] ("a")`, "duplicate key"}},
		{"malformed key", plugin(action("Send-Mail", "A", sdk.NewHandler(hello))), []string{`"Send-Mail"`, "key must match"}},
		{"empty title", plugin(action("a", "", sdk.NewHandler(hello))), []string{`actions[0] ("a")`, "title is empty"}},
		{"no handler", plugin(action("a", "A", nil)), []string{"no Handler"}},
		{"not a struct", plugin(action("a", "A", sdk.NewHandler(func(context.Context, string) (out, error) { return out{}, nil }))), []string{"input type string", "must be a struct"}},
		{"unsupported field", plugin(action("a", "A", sdk.NewHandler(func(context.Context, struct {
			C chan int `json:"c"`
		}) (out, error) {
			return out{}, nil
		}))), []string{`actions[0] ("a")`}},
		{"bad plugin name", sdk.Plugin{Name: "My Plugin", Title: "x", Actions: []sdk.Action{action("a", "A", sdk.NewHandler(hello))}}, []string{"My Plugin"}},
		{"no actions", sdk.Plugin{Name: "p", Title: "P"}, []string{"at least one action"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := sdktest.Check(c.p)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestRunPathsInProcess(t *testing.T) {
	p := plugin(
		action("hello", "Hello", sdk.NewHandler(hello)),
		action("boom", "Boom", sdk.NewHandler(func(context.Context, in) (out, error) { panic("kaboom") })),
		action("blame", "Blame", sdk.NewHandler(func(context.Context, in) (out, error) {
			return out{}, sdk.InputError("name", "%q is not a person", "x")
		})),
		action("fail", "Fail", sdk.NewHandler(func(context.Context, in) (out, error) { return out{}, errors.New("nope") })),
		action("report", "Report", sdk.NewHandler(func(ctx context.Context, i in) (out, error) {
			sdk.Progress(ctx, 0.5, "half")
			sdk.LoggerFrom(ctx).Warn("careful", "who", i.Name, "odd")
			return out{}, nil
		})),
	)
	h := sdktest.New(t, p, nil)
	ctx := context.Background()
	if r := h.Run(ctx, "hello", `{"name":"ada"}`); string(r.Output) != `{"greeting":"hi ada"}` {
		t.Fatalf("hello: %s %+v", r.Output, r.Err)
	}
	for _, c := range []struct{ action, input, code, msg string }{
		{"boom", `{"name":"x"}`, sdk.CodePanic, "kaboom"},
		{"blame", `{"name":"x"}`, sdk.CodeInvalidInput, `name: "x" is not a person`},
		{"fail", `{"name":"x"}`, sdk.CodeActionFailed, "nope"},
		{"hello", `{}`, sdk.CodeInvalidInput, "name: is required"},
		{"hello", `{"name":1}`, sdk.CodeInvalidInput, "must be string"},
		{"missing", `{}`, sdk.CodeUnknownAction, "missing"},
	} {
		r := h.Run(ctx, c.action, c.input)
		if r.Err == nil || r.Err.Code != c.code || !strings.Contains(r.Err.Message, c.msg) {
			t.Errorf("%s %s: %+v", c.action, c.input, r.Err)
		}
	}
	r := h.Run(ctx, "report", `{"name":"x"}`)
	if len(r.Progress) != 1 || r.Progress[0].Fraction != 0.5 || len(r.Logs) != 1 || r.Logs[0].Fields["who"] != "x" || r.Logs[0].Level != "warn" {
		t.Fatalf("events: %+v %+v", r.Progress, r.Logs)
	}
}

func TestRequiredConfigIsChecked(t *testing.T) {
	p := plugin(action("hello", "Hello", sdk.NewHandler(hello)))
	p.Config = []sdk.ConfigParam{{Key: "token", Title: "Token", Required: true}}
	r := sdktest.New(t, p, nil).Run(context.Background(), "hello", `{"name":"x"}`)
	if r.Err == nil || r.Err.Code != sdk.CodeMisconfigured || !strings.Contains(r.Err.Message, "token") {
		t.Fatalf("%+v", r.Err)
	}
}

func TestBinaryStartedByHand(t *testing.T) {
	bin, err := testbin.Build("internal/testplugins/testkit")
	if err != nil {
		t.Fatal(err)
	}
	outb, err := exec.Command(bin).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v", err)
	}
	for _, w := range []string{"This is a toolhost plugin", "testkit", "toolhost plugin install", "plugins.hcl"} {
		if !strings.Contains(string(outb), w) {
			t.Errorf("output does not mention %q:\n%s", w, outb)
		}
	}
}

func TestBadDefinitionBinaryExitsNonZero(t *testing.T) {
	bin, err := testbin.Build("internal/testplugins/baddef")
	if err != nil {
		t.Fatal(err)
	}
	outb, err := exec.Command(bin).CombinedOutput()
	if err == nil || !strings.Contains(string(outb), "bad definition") || !strings.Contains(string(outb), "duplicate key") {
		t.Fatalf("err %v output %s", err, outb)
	}
}

func TestSecretsNeverLeaveThePlugin(t *testing.T) {
	type secretIn struct {
		Name  string `json:"name" title:"Name"`
		Token string `json:"token" title:"Token" toolhost:"secret"`
	}
	leak := func(ctx context.Context, i secretIn) (out, error) {
		sdk.AddSecret(ctx, "derived-"+sdk.ConfigFrom(ctx).Get("password"))
		sdk.LoggerFrom(ctx).Info("using "+i.Token, "password", sdk.ConfigFrom(ctx).Get("password"), "list", []string{i.Token})
		return out{}, sdk.InputError("name", "server said: bad password hunter22 / derived-hunter22 / token tok-123456")
	}
	p := plugin(action("leak", "Leak", sdk.NewHandler(leak)))
	p.Config = []sdk.ConfigParam{{Key: "password", Title: "Password", Secret: true}}
	r := sdktest.New(t, p, sdk.Config{"password": "hunter22"}).Run(context.Background(), "leak", `{"name":"x","token":"tok-123456"}`)
	if r.Err == nil || r.Err.Code != sdk.CodeInvalidInput || r.Err.Field != "name" {
		t.Fatalf("error %+v", r.Err)
	}
	all := r.Err.Message + " " + r.Logs[0].Message + " " + fmtAny(r.Logs[0].Fields)
	for _, secret := range []string{"hunter22", "tok-123456"} {
		if strings.Contains(all, secret) {
			t.Fatalf("%q leaked: %s", secret, all)
		}
	}
	if !strings.Contains(r.Err.Message, "[redacted]") {
		t.Fatalf("message %q", r.Err.Message)
	}
}

func fmtAny(v any) string { return fmt.Sprint(v) }
