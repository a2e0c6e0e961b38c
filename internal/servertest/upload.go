package servertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
)

// Upload is one file of a multipart request, for the variable Var.
type Upload struct {
	Var, Filename, ContentType string
	Data                       []byte
}

// DoMultipart posts a GraphQL request with files, as the GraphQL multipart
// request spec has it: operations (the files' variables null), the map,
// then the files.
func (m *Mall) DoMultipart(token, query string, vars map[string]any, files ...Upload) *Response {
	m.T.Helper()
	v := map[string]any{}
	for k, x := range vars {
		v[k] = x
	}
	fileMap := map[string][]string{}
	for i, f := range files {
		v[f.Var] = nil
		fileMap[fmt.Sprint(i)] = []string{"variables." + f.Var}
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": v})
	mp, _ := json.Marshal(fileMap)
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", string(mp))
	for i, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%d"; filename=%q`, i, f.Filename))
		h.Set("Content-Type", f.ContentType)
		part, _ := w.CreatePart(h)
		_, _ = part.Write(f.Data)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, m.HTTP.URL+"/graphql", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := m.HTTP.Client().Do(req)
	if err != nil {
		m.T.Fatalf("post: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out Response
	if err := json.Unmarshal(raw, &out); err != nil {
		m.T.Fatalf("decode response (%d) %s: %v", res.StatusCode, raw, err)
	}
	out.Status = res.StatusCode
	return &out
}

// PNG is a w×h PNG image, its pixels made of w and h (so that images of
// other sizes are other bytes).
func PNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 5), 120, 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// UploadProductImageQ uploads an image (variables p, f, cover).
const UploadProductImageQ = `mutation($p: ID!, $f: Upload!, $cover: Boolean) {
	uploadProductImage(productID: $p, file: $f, cover: $cover) { id url contentType width height bytes position } }`
