// Command ceiling is the bare Echo handler that `make bench` measures in
// its own process as the machine's ceiling: GET / answers 200 "ok" with
// no middleware. It listens on the address given as its only argument
// and prints "listening on ADDR" once it accepts connections.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ceiling 127.0.0.1:PORT")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := http.Serve(ln, e); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}
