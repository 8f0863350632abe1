package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/domain"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
)

// Profile is the service's Profile object (PROTOCOL.md, "The profile API
// clients call first"), field for field: clients read these names.
type Profile struct {
	DisplayName    string          `json:"displayName"`
	PublicAlias    string          `json:"publicAlias"`
	EmailAddress   string          `json:"emailAddress"`
	CoreRevision   int64           `json:"coreRevision"`
	TimeStamp      string          `json:"timeStamp"` // RFC 3339 with a numeric offset: 2026-11-21T10:00:00+00:00
	ID             string          `json:"id"`
	Revision       int64           `json:"revision"`
	CoreAttributes *CoreAttributes `json:"coreAttributes,omitempty"`
}

// CoreAttributes are the profile's attributes with details=true.
type CoreAttributes struct {
	DisplayName  attr       `json:"DisplayName"`
	EmailAddress attr       `json:"EmailAddress"`
	Avatar       avatarAttr `json:"Avatar"`
}

type attr struct {
	Value string `json:"value"`
}

type avatarAttr struct {
	Value avatarValue `json:"value"`
}

type avatarValue struct {
	ContentType string `json:"contentType"`
	Value       string `json:"value"` // base64 PNG
}

// profileMe is GET /_apis/profile/profiles/me[?details=true]: the signed-in
// user of the access token (scope: see apiRoutes).
func (s *Server) profileMe(c echo.Context) error {
	p, _ := c.Get(ctxPrincipal).(oauth.Principal)
	u, err := s.cfg.Users.User(c.Request().Context(), p.UserID)
	if err != nil {
		return err
	}
	out := Profile{DisplayName: u.DisplayName, PublicAlias: u.ID, EmailAddress: u.Email, CoreRevision: u.Revision,
		TimeStamp: u.UpdatedAt.UTC().Format("2006-01-02T15:04:05-07:00"), ID: u.ID, Revision: u.Revision}
	if details, _ := strconv.ParseBool(c.QueryParam("details")); details {
		out.CoreAttributes = &CoreAttributes{
			DisplayName: attr{Value: u.DisplayName}, EmailAddress: attr{Value: u.Email},
			Avatar: avatarAttr{Value: avatarValue{ContentType: "image/png", Value: base64.StdEncoding.EncodeToString(avatarPNG(u))}},
		}
	}
	return c.JSON(http.StatusOK, out)
}

// avatarPNG draws the user's default avatar: a symmetric 5×5 identicon
// derived from the user id, 80×80 pixels.
func avatarPNG(u domain.User) []byte {
	sum := sha256.Sum256([]byte(strings.ToLower(u.ID)))
	fg := color.RGBA{R: sum[0]/2 + 64, G: sum[1]/2 + 64, B: sum[2]/2 + 64, A: 255}
	bg := color.RGBA{R: 240, G: 240, B: 240, A: 255}
	const cell, n = 16, 5
	img := image.NewRGBA(image.Rect(0, 0, cell*n, cell*n))
	for y := 0; y < n; y++ {
		for x := 0; x < 3; x++ {
			on := sum[3+y*3+x]&1 == 1
			for _, cx := range []int{x, n - 1 - x} {
				col := bg
				if on {
					col = fg
				}
				for py := y * cell; py < (y+1)*cell; py++ {
					for px := cx * cell; px < (cx+1)*cell; px++ {
						img.SetRGBA(px, py, col)
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
