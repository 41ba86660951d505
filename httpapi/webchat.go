package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi/cloudapi"
	"github.com/parley-chat/parley/service"
)

// The website chat's visitor API (docs/inbox.md, "Website chat"), called
// by the embed widget on a business's own website:
//
//	POST /webchat/v1/{phone}/sessions       → 201 {"visitor_id","token"}
//	GET  /webchat/v1/{phone}/messages?after= → {"messages":[{id, from, text, created_at}]}
//	POST /webchat/v1/{phone}/messages {"text"} → 201 the message
//	GET  /webchat/v1/{phone}/events          Server-Sent Events: the business's replies
//	POST /webchat/v1/{phone}/handoff {"phone","text"} → {"link","ref","expires_at"}
//
// {phone} is the business number's digits (as for click-to-chat). Every
// request needs an Origin the business allows (CORS, no credentials:
// the visitor's token travels in Authorization: Bearer, never in a
// cookie or the URL).

const webchatPrefix = "/webchat/v1/{phone}"

// webchatMaxBody bounds a visitor's request body.
const webchatMaxBody = 8 << 10

func (s *Server) webchatRoutes(mux *http.ServeMux) {
	if s.Inbox == nil || s.Inbox.Web == nil {
		return
	}
	p := webchatPrefix
	mux.Handle("OPTIONS "+p+"/{rest...}", s.webchat(false, s.webchatPreflight))
	mux.Handle("POST "+p+"/sessions", s.webchat(false, s.webchatSession))
	mux.Handle("GET "+p+"/messages", s.webchat(true, s.webchatMessages))
	mux.Handle("POST "+p+"/messages", s.webchat(true, s.webchatSend))
	mux.Handle("GET "+p+"/events", s.webchat(true, s.webchatEvents))
	mux.Handle("POST "+p+"/handoff", s.webchat(true, s.webchatHandoff))

	mux.Handle("GET "+inboxPrefix+"/webchat", s.agent(s.inboxWebOrigins))
	mux.Handle("PUT "+inboxPrefix+"/webchat", s.agent(s.inboxSetWebOrigins))
	mux.Handle("GET /admin/v1/businesses/{id}/webchat", s.admin(s.adminWebOrigins))
	mux.Handle("PUT /admin/v1/businesses/{id}/webchat", s.admin(s.adminSetWebOrigins))
}

type webchatCtx struct {
	number  *parley.BusinessNumber
	visitor *parley.WebVisitor
}

const webchatKey ctxKey = 2

func webchatOf(r *http.Request) *webchatCtx { return r.Context().Value(webchatKey).(*webchatCtx) }

// webchat wraps a visitor handler: the number must exist, the Origin
// must be one the business allows (then, and only then, the answer
// carries Access-Control-Allow-Origin), and with authed the visitor's
// bearer token must be one of this number's visitors.
func (s *Server) webchat(authed bool, h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		n, ok, err := s.Inbox.WebNumber(r.Context(), r.PathValue("phone"), origin)
		if err != nil {
			return err
		}
		if origin == "" {
			return parley.Errorf(parley.EFORBIDDEN, "the website chat answers browsers on the business's website only (no Origin header)")
		}
		if !ok {
			return parley.Errorf(parley.EFORBIDDEN, "this website is not allowed to use the business's chat")
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
		c := &webchatCtx{number: n}
		if authed {
			tok, ok := bearer(r)
			if !ok {
				return parley.Errorf(parley.EUNAUTHORIZED, "missing Authorization: Bearer token")
			}
			if c.visitor, err = s.Inbox.WebAuthenticate(r.Context(), n, tok); err != nil {
				return err
			}
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), webchatKey, c)))
	})
}

func (s *Server) webchatPreflight(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func webchatDecode(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength > webchatMaxBody {
		return parley.Errorf(parley.ETOOLARGE, "request body is larger than %d bytes", webchatMaxBody)
	}
	return decode(w, r, v)
}

func (s *Server) webchatSession(w http.ResponseWriter, r *http.Request) error {
	c := webchatOf(r)
	sess, err := s.Inbox.StartWebVisitor(r.Context(), c.number, strings.ToLower(r.Header.Get("Origin")), s.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sess)
	return nil
}

func (s *Server) webchatMessages(w http.ResponseWriter, r *http.Request) error {
	c := webchatOf(r)
	var after int64
	if a := r.URL.Query().Get("after"); a != "" {
		var err error
		if after, err = strconv.ParseInt(a, 10, 64); err != nil || after < 0 {
			return parley.Errorf(parley.EINVALID, "after must be a time in unix milliseconds")
		}
	}
	ms, err := s.Inbox.WebMessages(r.Context(), c.visitor, after, s.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": ms, "moved": c.visitor.MovedTo != ""})
	return nil
}

func (s *Server) webchatSend(w http.ResponseWriter, r *http.Request) error {
	c := webchatOf(r)
	var req struct {
		Text string `json:"text"`
	}
	if err := webchatDecode(w, r, &req); err != nil {
		return err
	}
	m, err := s.Inbox.WebSend(r.Context(), c.number, c.visitor, req.Text, s.clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

// webchatEvents streams the business's replies to the visitor as
// Server-Sent Events ("event: ready" first; then one data line of a
// message view each). The widget reads it with fetch (EventSource
// cannot send the Authorization header) and, after a reconnect, fetches
// what it missed with GET messages?after=.
func (s *Server) webchatEvents(w http.ResponseWriter, r *http.Request) error {
	c := webchatOf(r)
	st, err := s.Inbox.WebSubscribe(r.Context(), c.visitor, s.clientIP(r))
	if err != nil {
		return err
	}
	defer st.Close()
	rc, ok := openStream(w, "event: ready\ndata: {}\n\n")
	if !ok {
		return nil
	}
	t := time.NewTicker(eventsHeartbeat)
	defer t.Stop()
	closing := s.streamsClosing()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-closing:
			return nil
		case <-t.C:
			w.Write([]byte(": ping\n\n"))
		case ev, ok := <-st.Events():
			if !ok {
				w.Write([]byte("event: overflow\ndata: {}\n\n"))
				rc.Flush()
				return nil
			}
			m, mine := service.WebEvent(c.visitor, ev)
			if !mine {
				continue
			}
			b, _ := json.Marshal(m)
			w.Write([]byte("data: " + string(b) + "\n\n"))
		}
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

func (s *Server) webchatHandoff(w http.ResponseWriter, r *http.Request) error {
	c := webchatOf(r)
	var req struct {
		Phone string `json:"phone"`
		Text  string `json:"text,omitempty"`
	}
	if err := webchatDecode(w, r, &req); err != nil {
		return err
	}
	if utf8.RuneCountInString(req.Text) > 140 {
		return parley.Errorf(parley.EINVALID, "text must have at most 140 characters")
	}
	if strings.TrimSpace(req.Text) == "" {
		req.Text = "Continuing my chat from your website"
	}
	ho, err := s.Inbox.WebHandoff(r.Context(), c.number, c.visitor, req.Phone)
	if err != nil {
		return err
	}
	q := url.Values{"text": {req.Text}, "ref": {ho.Ref}, "src": {"website_button"}, "source_url": {strings.ToLower(r.Header.Get("Origin")) + "/"}}
	link := cloudapi.BaseURL(r, s.PublicURL, s.TrustProxy) + "/c/" + ho.Account + "?" + q.Encode()
	writeJSON(w, http.StatusOK, map[string]any{"link": link, "ref": ho.Ref, "expires_at": ho.ExpiresAt.UnixMilli()})
	return nil
}

type originsJSON struct {
	Origins []string `json:"origins"`
}

func (s *Server) inboxWebOrigins(w http.ResponseWriter, r *http.Request) error {
	os, err := s.Inbox.WebOrigins(r.Context(), agentOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, originsJSON{os})
	return nil
}

func (s *Server) inboxSetWebOrigins(w http.ResponseWriter, r *http.Request) error {
	var req originsJSON
	if err := decode(w, r, &req); err != nil {
		return err
	}
	os, err := s.Inbox.SetWebOrigins(r.Context(), agentOf(r), req.Origins)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, originsJSON{os})
	return nil
}

func (s *Server) adminWebOrigins(w http.ResponseWriter, r *http.Request) error {
	os, err := s.Inbox.WebOriginsOf(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, originsJSON{os})
	return nil
}

func (s *Server) adminSetWebOrigins(w http.ResponseWriter, r *http.Request) error {
	var req originsJSON
	if err := decode(w, r, &req); err != nil {
		return err
	}
	os, err := s.Inbox.SetWebOriginsAsOperator(r.Context(), r.PathValue("id"), "", req.Origins)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, originsJSON{os})
	return nil
}
