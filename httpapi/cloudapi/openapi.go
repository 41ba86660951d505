package cloudapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// OpenAPI is the OpenAPI 3.1 description of the Cloud API surface Parley
// implements (openapi.json, written by hand; TestOpenAPIMatchesRoutes
// keeps its paths and the routes of routes() in step). Operations marked
// "x-parley-unimplemented" belong to the Cloud API but are not served yet.
//
//go:embed openapi.json
var OpenAPI []byte

// Docs serves GET /openapi.json (the spec) and GET /docs/api (a small
// self-contained HTML page listing its paths and webhooks). Put it in
// front of the node's other handlers with DocsMatch.
func Docs() http.Handler {
	page, err := renderDocs(OpenAPI)
	if err != nil {
		panic("cloudapi: openapi.json: " + err.Error()) // the embedded file is tested
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		switch r.URL.Path {
		case "/openapi.json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Write(OpenAPI)
		case "/docs/api":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
			w.Write(page)
		default:
			http.NotFound(w, r)
		}
	})
}

// DocsMatch reports whether Docs serves path.
func DocsMatch(path string) bool { return path == "/openapi.json" || path == "/docs/api" }

type docParam struct {
	Name, In, Description string
	Required              bool
}

type docOp struct {
	Method, Path, Summary, Description, Tag, Request, Response string
	Params                                                     []docParam
	Unimplemented                                              bool
}

type specOp struct {
	Tags          []string   `json:"tags"`
	Summary       string     `json:"summary"`
	Description   string     `json:"description"`
	Parameters    []docParam `json:"parameters"`
	Unimplemented bool       `json:"x-parley-unimplemented"`
	RequestBody   struct {
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

type spec struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title, Version, Description string
	} `json:"info"`
	Paths    map[string]map[string]specOp `json:"paths"`
	Webhooks map[string]map[string]specOp `json:"webhooks"`
}

// schemaNames lists the component names a schema refers to at its top
// ("SendMessage | MarkRead").
func schemaNames(raw json.RawMessage) string {
	var s struct {
		Ref   string            `json:"$ref"`
		OneOf []json.RawMessage `json:"oneOf"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	if s.Ref != "" {
		return s.Ref[strings.LastIndexByte(s.Ref, '/')+1:]
	}
	var names []string
	for _, o := range s.OneOf {
		if n := schemaNames(o); n != "" {
			names = append(names, n)
		}
	}
	return strings.Join(names, " | ")
}

func docOps(m map[string]map[string]specOp, webhook bool) []docOp {
	var out []docOp
	for path, item := range m {
		for method, o := range item {
			d := docOp{Method: strings.ToUpper(method), Path: path, Summary: o.Summary, Description: o.Description,
				Params: o.Parameters, Unimplemented: o.Unimplemented}
			if webhook {
				d.Path = "field " + path
			}
			if len(o.Tags) > 0 {
				d.Tag = o.Tags[0]
			}
			var types []string
			for ct, c := range o.RequestBody.Content {
				types = append(types, ct+": "+schemaNames(c.Schema))
			}
			slices.Sort(types)
			d.Request = strings.Join(types, "; ")
			if r, ok := o.Responses["200"]; ok {
				if c, ok := r.Content["application/json"]; ok {
					d.Response = schemaNames(c.Schema)
				}
			}
			out = append(out, d)
		}
	}
	order := map[string]int{"GET": 0, "POST": 1, "DELETE": 2}
	slices.SortFunc(out, func(a, b docOp) int {
		if c := strings.Compare(a.Tag, b.Tag); c != 0 {
			return c
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return order[a.Method] - order[b.Method]
	})
	return out
}

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,.path{font-family:ui-monospace,monospace}h2{margin-top:2.5rem;border-bottom:1px solid #ddd}
.op{border:1px solid #ddd;border-radius:6px;padding:.6rem .9rem;margin:.8rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:700}.GET{color:#0a6}.POST{color:#06c}.DELETE{color:#c30}
.todo{opacity:.6}.badge{font-size:.8em;background:#eee;border-radius:4px;padding:0 .4em;margin-left:.5em}
table{border-collapse:collapse;font-size:.9em}td{padding:.1rem .6rem .1rem 0;vertical-align:top}
</style></head><body>
<h1>{{.Title}} <small>{{.Version}}</small></h1>
<p>{{.Description}}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI {{.OpenAPI}}). Paths are relative to <code>/v24.0</code> (any <code>vNN.N</code>, or none).</p>
{{range .Sections}}<h2>{{.Name}}</h2>
{{range .Ops}}<div class="op{{if .Unimplemented}} todo{{end}}" id="{{.Method}} {{.Path}}">
<div><span class="m {{.Method}}">{{.Method}}</span><span class="path">{{.Path}}</span>{{if .Unimplemented}}<span class="badge">not served yet</span>{{end}}</div>
<div>{{.Summary}}</div>{{if .Description}}<p>{{.Description}}</p>{{end}}
{{if .Params}}<table>{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}{{if .Required}}, required{{end}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .Request}}<div>Body: <code>{{.Request}}</code></div>{{end}}{{if .Response}}<div>200: <code>{{.Response}}</code></div>{{end}}
</div>{{end}}{{end}}
</body></html>
`))

type docSection struct {
	Name string
	Ops  []docOp
}

func renderDocs(b []byte) ([]byte, error) {
	var s spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	var sections []docSection
	for _, o := range docOps(s.Paths, false) {
		if len(sections) == 0 || sections[len(sections)-1].Name != o.Tag {
			sections = append(sections, docSection{Name: o.Tag})
		}
		sections[len(sections)-1].Ops = append(sections[len(sections)-1].Ops, o)
	}
	sections = append(sections, docSection{Name: "Webhooks sent to your callback URL", Ops: docOps(s.Webhooks, true)})
	var buf bytes.Buffer
	err := docsPage.Execute(&buf, map[string]any{"Title": s.Info.Title, "Version": s.Info.Version, "Description": s.Info.Description,
		"OpenAPI": s.OpenAPI, "Sections": sections})
	return buf.Bytes(), err
}
