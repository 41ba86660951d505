package sdk_test

import (
	"context"
	"fmt"
	"log"

	"github.com/parley-chat/parley/sdk"
)

// A bot that answers every text message, acknowledging each message only
// after its answer was accepted by the server.
func ExampleMessenger() {
	ctx := context.Background()
	creds := sdk.Credentials{Server: "https://chat.example.org", Account: "4915112345678", Device: 1, Token: "…"}
	m := sdk.NewMessenger(creds, sdk.Options{})
	go func() {
		if err := m.Run(ctx); err != nil {
			log.Printf("stopped: %v", err) // e.g. close 4002: this device was unlinked
		}
	}()
	err := m.Handle(ctx, func(ctx context.Context, ev sdk.Event) error {
		switch e := ev.(type) {
		case *sdk.Message:
			if e.From == creds.Account || e.Type != "text" {
				return nil // sent by another own device, or not text
			}
			_, err := m.SendText(ctx, e.From, "you said: "+e.Text)
			return err // not nil: no ack, the message comes again
		case *sdk.Receipt:
			fmt.Println(e.Kind, e.MessageID)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}
