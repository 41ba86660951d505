package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
)

// Groups (docs/protocol.md, "Groups"). Every endpoint answers not_found
// for a group the caller is not a member of, so that a group's existence
// does not leak.

type groupMemberJSON struct {
	Account  string `json:"account"`
	Role     string `json:"role"`
	JoinedAt int64  `json:"joined_at"` // unix seconds
}

type groupJSON struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Version   uint64            `json:"version"`
	CreatedAt int64             `json:"created_at"` // unix seconds
	Members   []groupMemberJSON `json:"members,omitempty"`
	Invite    string            `json:"invite,omitempty"` // the invite code, shown to admins
}

// groupOf renders g for the caller me; members are included when g has
// them (not in lists).
func groupOf(g *parley.Group, me string) groupJSON {
	out := groupJSON{ID: g.ID, Name: g.Name, Version: g.Version, CreatedAt: g.CreatedAt.Unix()}
	for _, m := range g.Members {
		out.Members = append(out.Members, groupMemberJSON{Account: m.Account, Role: m.Role, JoinedAt: m.JoinedAt.Unix()})
	}
	if m := g.Member(me); m != nil && m.Role == parley.RoleAdmin {
		out.Invite = g.Invite
	}
	return out
}

type createGroupRequest struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	var req createGroupRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	me := device(r)
	g, err := s.Groups.Create(r.Context(), me, req.Name, req.Members)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, groupOf(g, me.Account))
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	me := device(r)
	gs, err := s.Groups.List(r.Context(), me)
	if err != nil {
		return err
	}
	out := struct {
		Groups []groupJSON `json:"groups"`
	}{Groups: make([]groupJSON, len(gs))}
	for i := range gs {
		out.Groups[i] = groupOf(&gs[i], me.Account)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	me := device(r)
	g, err := s.Groups.Get(r.Context(), me, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, groupOf(g, me.Account))
	return nil
}

func (s *Server) groupDevices(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	m, err := s.Groups.Devices(r.Context(), device(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Group   string              `json:"group"`
		Devices map[string][]uint32 `json:"devices"`
	}{id, m})
	return nil
}

func (s *Server) renameGroup(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	me := device(r)
	g, err := s.Groups.Rename(r.Context(), me, r.PathValue("id"), req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, groupOf(g, me.Account))
	return nil
}

func (s *Server) addGroupMembers(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Members []string `json:"members"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	me := device(r)
	g, err := s.Groups.AddMembers(r.Context(), me, r.PathValue("id"), req.Members)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, groupOf(g, me.Account))
	return nil
}

// removeGroupMember removes a member, or leaves when the account is the
// caller's own.
func (s *Server) removeGroupMember(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Groups.RemoveMember(r.Context(), device(r), r.PathValue("id"), r.PathValue("account")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setGroupAdmin(admin bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		me := device(r)
		g, err := s.Groups.SetAdmin(r.Context(), me, r.PathValue("id"), r.PathValue("account"), admin)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, groupOf(g, me.Account))
		return nil
	}
}

func (s *Server) createGroupInvite(w http.ResponseWriter, r *http.Request) error {
	code, err := s.Groups.CreateInvite(r.Context(), device(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Code string `json:"code"`
	}{code})
	return nil
}

func (s *Server) revokeGroupInvite(w http.ResponseWriter, r *http.Request) error {
	if err := s.Groups.RevokeInvite(r.Context(), device(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) previewGroupInvite(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Groups.PreviewInvite(r.Context(), device(r), r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Name    string `json:"name"`
		Members int    `json:"members"`
	}{p.Name, p.Members})
	return nil
}

func (s *Server) joinGroup(w http.ResponseWriter, r *http.Request) error {
	me := device(r)
	g, err := s.Groups.JoinByInvite(r.Context(), me, r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, groupOf(g, me.Account))
	return nil
}
