package api

import "testing"

func TestJSONPathAtInvalidUTF8(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"{\"input\":{\"text\":\"ab\xffc\"}}", "input.text"},
		{"{\"messages\":[{\"role\":\"user\"},{\"content\":\"\xfe\"}]}", "messages.1.content"},
		{"{\"a\":1,\"b\":[1,2,\"\xc3\"]}", "b.2"},
		{"{\"k\xff\":1}", "k\ufffd"},
		{"\xff", ""},
	} {
		err := checkUTF8([]byte(c.body))
		if err == nil {
			t.Fatalf("%q: valid?", c.body)
		}
		if got := jsonPathAt([]byte(c.body), invalidUTF8At([]byte(c.body))); got != c.want {
			t.Errorf("%q: path %q, want %q (%v)", c.body, got, c.want, err)
		}
	}
	if checkUTF8([]byte(`{"ok":"é"}`)) != nil {
		t.Error("valid UTF-8 refused")
	}
}
