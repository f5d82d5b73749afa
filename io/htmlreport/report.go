// Package htmlreport writes a self-contained HTML report: one file with its
// style sheet inline and every figure embedded as a data: URI, so it opens
// from a file system, an e-mail or a cluster's scratch folder with nothing
// fetched from the network and no script run. The caller decides what goes
// in (cmd/eandarn-report); this package only lays it out and escapes it.
package htmlreport

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
)

// Document is a report: a title, facts about what it shows (provenance,
// versions), and sections.
type Document struct {
	Title    string
	Facts    []Fact
	Sections []Section
}

// Fact is one labelled line of a key/value list.
type Fact struct{ Key, Value string }

// Section is a titled part of the report; ID is its anchor (listed in the
// table of contents).
type Section struct {
	ID, Title string
	Blocks    []Block
}

// Block is one element of a section: *Paragraph, *Table, *Figure, *Facts
// or *Details.
type Block interface{ block() }

// Paragraph is a paragraph of text.
type Paragraph struct{ Text string }

// Table is a table with a caption; Numeric[j] right-aligns column j.
type Table struct {
	Caption string
	Head    []string
	Numeric []bool
	Rows    [][]string
}

// Figure is a PNG image with a caption. Name is a file name for it (the
// image's title attribute), so a reader can match it with PNG files written
// alongside.
type Figure struct {
	Name, Caption string
	PNG           []byte
}

// Facts is a key/value list inside a section.
type Facts struct{ Items []Fact }

// Details is collapsed preformatted text (a configuration, a log).
type Details struct{ Summary, Text string }

func (*Paragraph) block() {}
func (*Table) block()     {}
func (*Figure) block()    {}
func (*Facts) block()     {}
func (*Details) block()   {}

// Write renders d as one HTML5 document on w.
func (d *Document) Write(w io.Writer) error {
	if err := page.Execute(w, d); err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	return nil
}

// dataURI is the PNG as a data: URI; it is built here from bytes, never
// from text, so marking it safe is sound.
func dataURI(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

// kind names a block for the template.
func kind(b Block) string {
	switch b.(type) {
	case *Paragraph:
		return "p"
	case *Table:
		return "table"
	case *Figure:
		return "figure"
	case *Facts:
		return "facts"
	case *Details:
		return "details"
	}
	return ""
}

func alignOf(t *Table, j int) string {
	if j < len(t.Numeric) && t.Numeric[j] {
		return "num"
	}
	return ""
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"datauri": dataURI, "kind": kind, "align": alignOf,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
nav ol { columns: 2; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.15em 1em; font-size: 0.92em; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; font-family: "Liberation Mono", monospace; word-break: break-all; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
caption { caption-side: top; text-align: left; font-style: italic; padding-bottom: 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; }
details pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Facts}}<dl class="facts">{{range .Facts}}<dt>{{.Key}}</dt><dd>{{.Value}}</dd>{{end}}</dl>{{end}}
{{if .Sections}}<nav><ol>{{range .Sections}}<li><a href="#{{.ID}}">{{.Title}}</a></li>{{end}}</ol></nav>{{end}}
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{range .Blocks}}{{$k := kind .}}{{if eq $k "p"}}<p>{{.Text}}</p>
{{else if eq $k "table"}}{{$t := .}}<table>{{if .Caption}}<caption>{{.Caption}}</caption>{{end}}
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range $j, $c := .}}<td class="{{align $t $j}}">{{$c}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{else if eq $k "figure"}}<figure><img src="{{datauri .PNG}}" alt="{{.Caption}}" title="{{.Name}}">{{if .Caption}}<figcaption>{{.Caption}}</figcaption>{{end}}</figure>
{{else if eq $k "facts"}}<dl class="facts">{{range .Items}}<dt>{{.Key}}</dt><dd>{{.Value}}</dd>{{end}}</dl>
{{else if eq $k "details"}}<details><summary>{{.Summary}}</summary><pre>{{.Text}}</pre></details>
{{end}}{{end}}</section>
{{end}}</body>
</html>
`))
