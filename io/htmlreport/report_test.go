package htmlreport

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

// TestWrite: every block renders; text is escaped; the image is inlined as
// a data: URI that decodes to the PNG bytes; nothing refers to another
// resource (no src or href other than data: URIs and in-page anchors, no
// script).
func TestWrite(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nnot really")
	d := &Document{
		Title: "report <1>",
		Facts: []Fact{{Key: "source", Value: "a&b"}},
		Sections: []Section{{ID: "s1", Title: "one", Blocks: []Block{
			&Paragraph{Text: "x < y"},
			&Table{Caption: "cap", Head: []string{"method", "RE"}, Numeric: []bool{false, true},
				Rows: [][]string{{"eandarn", "0.05 ± 0.01"}, {"<script>", "1"}}},
			&Figure{Name: "f.png", Caption: "fig \"1\"", PNG: png},
			&Facts{Items: []Fact{{Key: "k", Value: "v"}}},
			&Details{Summary: "config", Text: `{"a": "<b>"}`},
		}}},
	}
	var b bytes.Buffer
	if err := d.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"<title>report &lt;1&gt;</title>", "a&amp;b", "<p>x &lt; y</p>", "<caption>cap</caption>",
		`<td class="num">0.05 ± 0.01</td>`, "<td class=\"\">&lt;script&gt;</td>", `title="f.png"`,
		`<pre>{&#34;a&#34;: &#34;&lt;b&gt;&#34;}</pre>`, `<a href="#s1">one</a>`, `<section id="s1">`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	m := regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no data: image in\n%s", out)
	}
	if got, err := base64.StdEncoding.DecodeString(m[1]); err != nil || !bytes.Equal(got, png) {
		t.Errorf("inlined image decodes to %q, %v", got, err)
	}
	for _, ref := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(out, -1) {
		if !strings.HasPrefix(ref[1], "data:") && !strings.HasPrefix(ref[1], "#") {
			t.Errorf("external reference %q", ref[1])
		}
	}
	if strings.Contains(out, "<script") || strings.Contains(out, "url(") || strings.Contains(out, "@import") {
		t.Error("the report holds a script or a style-sheet reference")
	}
}
