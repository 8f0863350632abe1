// Command oauthdesk is a self-hosted OAuth 2.0 authorization server with
// an admin dashboard. See README.md, or run `oauthdesk --help`.
package main

import (
	"context"
	"os"

	"github.com/oauthdesk/oauthdesk/internal/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), os.Args[1:], cli.DefaultEnv()))
}
