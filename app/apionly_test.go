package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/bus/natstest"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

// An API-only node (--hosted-devices 0) accepts Cloud API messages but
// runs no hosted device and no sandbox customer; a node of the same
// cluster that runs hosted devices settles what the API-only node
// accepted.
func TestAPIOnlyNode(t *testing.T) {
	natsURL, dsn, key := natstest.URL(t), pgtest.DSN(t), sharedKey(t)
	api := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "api-only", AtRestKeyFile: key, HostedDevices: -1})
	b := createBusiness(t, api, nil)
	ctx := context.Background()

	var sent struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	msg := map[string]any{"messaging_product": "whatsapp", "to": "+16505550142", "type": "text", "text": map[string]any{"body": "Your order has shipped"}}
	if st := call(t, "POST", api.base+"/v24.0/"+b.PhoneNumberID+"/messages", b.AccessToken, msg, &sent); st != 200 || len(sent.Messages) != 1 {
		t.Fatalf("send on the API-only node: status %d, %+v", st, sent)
	}
	wamid := sent.Messages[0].ID

	// Nobody runs the number's device yet: the message waits, accepted.
	time.Sleep(500 * time.Millisecond)
	if h, err := api.m.Store().Hosted(ctx, b.Account); err != nil || h.LeaseNode != "" {
		t.Fatalf("hosted device of the number: %+v, %v; want no lease on an API-only node", h, err)
	}
	if o, err := api.m.Store().Outbound(ctx, wamid); err != nil || o.Status != parley.OutboundAccepted {
		t.Fatalf("outbound %s: %+v, %v; want accepted", wamid, o, err)
	}
	var e map[string]any
	if st := call(t, "POST", api.base+"/admin/v1/customers/+4915100000712/messages", adminToken(t, api),
		map[string]string{"to": "+" + b.Account, "text": "hello"}, &e); st != 503 {
		t.Fatalf("sandbox customer on an API-only node: status %d %v, want 503", st, e)
	}

	// A node that runs hosted devices joins and settles the message: the
	// customer never wrote, so it fails with 131047 (or 131026: no account).
	startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "devices", AtRestKeyFile: key})
	deadline := time.Now().Add(20 * time.Second)
	for {
		o, err := api.m.Store().Outbound(ctx, wamid)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status == parley.OutboundFailed {
			if o.ErrorCode != 131047 && o.ErrorCode != 131026 {
				t.Fatalf("failed with %d, want 131047 or 131026", o.ErrorCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message was not settled by the node running hosted devices: %+v", o)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h, err := api.m.Store().Hosted(ctx, b.Account); err != nil || h.LeaseNode != "devices" {
		t.Fatalf("hosted device of the number: %+v, %v; want leased by node devices", h, err)
	}
}
