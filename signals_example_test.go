package vial_test

import (
	"fmt"

	"github.com/vial-go/vial"
)

// An application defines its own signals in a namespace, connects
// receivers, and sends. Receivers run in the order they were connected.
func ExampleSignal() {
	signals := vial.NewNamespace()
	orderPlaced := vial.NamespaceSignal[string](signals, "order-placed")

	app := vial.New("shop")
	orderPlaced.Connect(func(_ *vial.App, order string) {
		fmt.Println("email receipt for", order)
	})
	c := orderPlaced.Connect(func(_ *vial.App, order string) {
		fmt.Println("update stock for", order)
	})

	orderPlaced.Send(app, "order 17")
	orderPlaced.Disconnect(c)
	orderPlaced.Send(app, "order 18")
	// Output:
	// email receipt for order 17
	// update stock for order 17
	// email receipt for order 18
}

// ConnectVia listens to one application only, when several share a
// process.
func ExampleSignal_ConnectVia() {
	saved := vial.NewSignal[int]("model-saved")
	shop, admin := vial.New("shop"), vial.New("admin")

	saved.ConnectVia(admin, func(_ *vial.App, id int) {
		fmt.Println("audit: model", id, "saved from admin")
	})

	saved.Send(shop, 1) // not heard
	saved.Send(admin, 2)
	// Output:
	// audit: model 2 saved from admin
}

// ConnectedTo records what a signal carries while a piece of code runs,
// as a test does around a request, and disconnects afterwards.
func ExampleSignal_ConnectedTo() {
	saved := vial.NewSignal[int]("model-saved")
	app := vial.New("shop")

	var ids []int
	saved.ConnectedTo(func(_ *vial.App, id int) { ids = append(ids, id) }, func() {
		saved.Send(app, 1)
		saved.Send(app, 2)
	})
	saved.Send(app, 3) // after the body: not recorded

	fmt.Println(ids, saved.HasReceivers())
	// Output:
	// [1 2] false
}

// A receiver that panics is reported, not propagated: the other
// receivers still run and Send returns normally.
func ExampleSetReceiverPanicHandler() {
	prev := vial.SetReceiverPanicHandler(func(p *vial.ReceiverPanic) {
		fmt.Println("reported:", p) // p.Stack holds the stack
	})
	defer func() { vial.SetReceiverPanicHandler(prev) }()

	saved := vial.NewSignal[int]("model-saved")
	saved.Connect(func(*vial.App, int) { panic("search index offline") })
	saved.Connect(func(_ *vial.App, id int) { fmt.Println("cache cleared for", id) })

	saved.Send(vial.New("shop"), 5)
	// Output:
	// reported: vial: signal "model-saved": receiver panicked: search index offline
	// cache cleared for 5
}
