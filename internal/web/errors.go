package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/internal/oauth"
	"github.com/oauthdesk/oauthdesk/views"
)

// errorHandler is the one place where errors become responses:
//   - *oauth.Error → the token endpoint's JSON body with both spellings
//     (Error/ErrorDescription and error/error_description), no-store;
//   - *oauth.RedirectError → 302 to the callback with ?error=…&state=…;
//   - *oauth.PageError → an HTML 400 page, never a redirect;
//   - *oauth.BearerError → 401/403 with WWW-Authenticate (RFC 6750 §3);
//   - apperr codes and echo.HTTPError → their status, as JSON under
//     /_apis/ and /oauth2/token, as an HTML page elsewhere;
//   - anything under the admin REST API (/_apis/oauthdesk/v1/) → an RFC
//     9457 problem (writeProblem), whatever the error.
//
// 5xx are logged as errors with the cause, 4xx as warnings; a 5xx never
// shows its cause to the client.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	req := c.Request()
	log := s.log.With("method", req.Method, "path", req.URL.Path, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))

	if strings.HasPrefix(req.URL.Path, adminAPIBase+"/") {
		s.writeProblem(c, err, log)
		return
	}

	var (
		oerr *oauth.Error
		rerr *oauth.RedirectError
		perr *oauth.PageError
		berr *oauth.BearerError
		polr *oauth.PolicyError
		herr *echo.HTTPError
	)
	switch {
	case errors.As(err, &oerr):
		log.Warn("token request rejected", "error", oerr.Code, "description", oerr.Description)
		writeTokenError(c, oerr)
		return
	case errors.As(err, &rerr):
		log.Warn("authorization request rejected", "error", rerr.Name, "description", rerr.Description)
		if rerr.ResponseMode == oauth.ResponseModeFormPost {
			if err := s.formPost(c, rerr.RedirectURI, rerr.Params()); err != nil {
				log.Error("render form_post", "err", err)
			}
			return
		}
		_ = c.Redirect(http.StatusFound, rerr.Location())
		return
	case errors.As(err, &perr):
		log.Warn("authorization request refused", "reason", perr.Message)
		s.errorPage(c, http.StatusBadRequest, "This authorization request is not valid", perr.Message)
		return
	case errors.As(err, &polr):
		log.Warn("API call refused: third-party OAuth access is off", "user_id", polr.UserID)
		_ = c.JSON(http.StatusUnauthorized, map[string]any{"$id": "1", "innerException": nil, "message": polr.Error(),
			"typeName": "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server",
			"typeKey":  "UnauthorizedRequestException", "errorCode": 0, "eventId": 3000})
		return
	case errors.As(err, &berr):
		setBearerChallenge(c, berr)
		_ = c.JSON(berr.Status(), apiError(berr.Description))
		return
	}

	status, msg := http.StatusInternalServerError, "Internal error."
	switch {
	case errors.As(err, &herr):
		status = herr.Code
		if m, ok := herr.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(status)
		}
		if status == http.StatusNotFound {
			msg = "There is nothing at this address."
		}
	default:
		msg = apperr.ErrorMessage(err)
		if k, ok := errorKinds[apperr.ErrorCode(err)]; ok {
			status = k.status
		}
		if status == http.StatusServiceUnavailable {
			setRetryAfter(c, time.Second)
		}
	}
	if status == http.StatusServiceUnavailable {
		log.Warn("request refused: busy", "reason", msg)
	} else if status >= 500 {
		log.Error("request failed", "status", status, "err", err)
		msg = "Internal error. The cause was logged; try again, and tell the administrator if it persists."
	} else {
		log.Warn("request rejected", "status", status, "reason", msg)
	}

	tokenEndpoint, _ := c.Get(ctxTokenEndpoint).(bool)
	switch path := req.URL.Path; {
	case path == "/oauth2/token" || tokenEndpoint || c.Get(ctxStandardToken) == true:
		if status >= 500 {
			msg = tokenServerError // PROTOCOL.md: the service's text, nothing else
		}
		writeTokenError(c, &oauth.Error{Code: tokenErrorCode(status), Description: msg, Status: status})
	case strings.HasPrefix(path, "/_apis/"):
		_ = c.JSON(status, apiError(msg))
	default:
		s.errorPage(c, status, titleFor(status), msg)
	}
}

// tokenServerError is the token endpoint's description of any 5xx.
const tokenServerError = "An internal server error occurred"

func tokenErrorCode(status int) string {
	if status >= 500 {
		return oauth.ErrServer.Code
	}
	return "invalid_request"
}

// writeTokenError writes an RFC 6749 §5.2 error body that carries both the
// service's PascalCase keys and the RFC's snake_case keys.
func writeTokenError(c echo.Context, e *oauth.Error) {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("Pragma", "no-cache")
	if std, _ := c.Get(ctxStandardToken).(bool); std || e.Standard {
		// RFC 6749 §5.2 exactly; a client that tried HTTP Basic is told
		// the scheme (§5.2: "MUST include the WWW-Authenticate").
		if basic, _ := c.Get(ctxBasicAuth).(bool); basic && e.Status == http.StatusUnauthorized {
			h.Set(echo.HeaderWWWAuthenticate, `Basic realm="oauthdesk"`)
		}
		_ = c.JSON(e.Status, map[string]string{"error": e.Code, "error_description": e.Description})
		return
	}
	_ = c.JSON(e.Status, map[string]string{
		"Error": e.Code, "ErrorDescription": e.Description,
		"error": e.Code, "error_description": e.Description,
	})
}

// apiError is the error body of the REST API, shaped like the service's
// exceptions (message, typeKey).
func apiError(msg string) map[string]any {
	return map[string]any{"$id": "1", "innerException": nil, "message": msg, "typeName": "oauthdesk.Error", "typeKey": "Error", "errorCode": 0, "eventId": 3000}
}

func titleFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "That request is not valid"
	case http.StatusUnauthorized:
		return "Please sign in"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusNotFound:
		return "Not found"
	case http.StatusConflict:
		return "Conflict"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	return http.StatusText(status)
}

func (s *Server) errorPage(c echo.Context, status int, title, msg string) {
	if err := render(c, status, views.Error(views.ErrorPage{Nav: s.nav(c, ""), Status: status, Title: title, Message: msg})); err != nil {
		s.log.Error("render error page", "err", err)
	}
}

// problemType is the RFC 9457 "type" of each kind of problem the admin
// REST API reports (ADMIN_API.md lists them).
const problemType = "urn:oauthdesk:problem:"

// problem is an RFC 9457 problem details object
// (application/problem+json). Errors, an extension member, lists the
// request body's fields that were refused: pointer is a JSON Pointer
// (RFC 6901) into the body as a URI fragment ("#/name").
type problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []problemField `json:"errors,omitempty"`
}

// problemField is one refused field of a request body.
type problemField struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
}

// writeProblem answers err as an RFC 9457 problem: the admin REST API's
// half of errorHandler. An authentication or scope failure keeps its
// WWW-Authenticate challenge (RFC 6750 §3); 5xx are logged with their
// cause and never show it.
func (s *Server) writeProblem(c echo.Context, err error, log *slog.Logger) {
	var (
		berr *oauth.BearerError
		polr *oauth.PolicyError
		herr *echo.HTTPError
	)
	p := problem{Status: http.StatusInternalServerError, Type: problemType + "internal"}
	switch {
	case errors.As(err, &polr):
		p.Status, p.Type, p.Detail = http.StatusUnauthorized, problemType+"third-party-oauth-off", polr.Error()
	case errors.As(err, &berr):
		setBearerChallenge(c, berr)
		p.Status, p.Detail = berr.Status(), berr.Description
		p.Type = problemType + "unauthorized"
		if berr.Code == "insufficient_scope" {
			p.Type = problemType + "insufficient-scope"
		}
	case errors.As(err, &herr):
		p.Status = herr.Code
		p.Detail, _ = herr.Message.(string)
		switch p.Status {
		case http.StatusNotFound:
			p.Type, p.Detail = problemType+"not-found", "There is nothing at this address."
		case http.StatusMethodNotAllowed:
			p.Type, p.Detail = problemType+"method-not-allowed", "This address does not take "+c.Request().Method+"."
		case http.StatusRequestEntityTooLarge:
			p.Type, p.Detail = problemType+"too-large", "The body is larger than 1 MB."
		default:
			p.Type = problemType + strings.ReplaceAll(strings.ToLower(http.StatusText(p.Status)), " ", "-")
		}
	default:
		code := apperr.ErrorCode(err)
		p.Detail = apperr.ErrorMessage(err)
		if k, ok := errorKinds[code]; ok {
			p.Status, p.Type = k.status, problemType+k.kind
		}
		for _, f := range slices.Sorted(maps.Keys(apperr.FieldErrors(err))) {
			p.Errors = append(p.Errors, problemField{Pointer: "#/" + f, Detail: apperr.FieldErrors(err)[f]})
		}
		if p.Status == http.StatusServiceUnavailable {
			setRetryAfter(c, time.Second)
		}
	}
	switch {
	case p.Status >= 500 && p.Status != http.StatusServiceUnavailable:
		log.Error("admin API request failed", "status", p.Status, "err", err)
		p.Detail = "Internal error. The cause was logged; try again, and tell the administrator if it persists."
	default:
		log.Warn("admin API request refused", "status", p.Status, "reason", p.Detail)
	}
	if p.Detail == "" {
		p.Detail = http.StatusText(p.Status)
	}
	p.Title = http.StatusText(p.Status)
	p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	b, mErr := json.Marshal(p)
	if mErr != nil {
		log.Error("encode problem", "err", mErr)
		return
	}
	_ = c.Blob(p.Status, "application/problem+json", b)
}

// errorKinds maps an apperr code to its HTTP status and, for RFC 9457
// problems, the last part of its type URI: the one table both the error
// handler and writeProblem read (codes not listed: 500, "internal").
var errorKinds = map[apperr.Code]struct {
	status int
	kind   string
}{
	apperr.Invalid: {http.StatusBadRequest, "invalid"}, apperr.NotFound: {http.StatusNotFound, "not-found"},
	apperr.Conflict: {http.StatusConflict, "conflict"}, apperr.Unauthorized: {http.StatusUnauthorized, "unauthorized"},
	apperr.Forbidden: {http.StatusForbidden, "forbidden"}, apperr.Unavailable: {http.StatusServiceUnavailable, "unavailable"},
	apperr.PreconditionFailed:   {http.StatusPreconditionFailed, "precondition-failed"},
	apperr.PreconditionRequired: {http.StatusPreconditionRequired, "precondition-required"},
}

// setBearerChallenge sets the WWW-Authenticate header of a refused Bearer
// request (RFC 6750 §3): the realm, and the error, its description and the
// scope needed when berr names them.
func setBearerChallenge(c echo.Context, berr *oauth.BearerError) {
	challenge := `Bearer realm="oauthdesk"`
	if berr.Code != "" {
		challenge += `, error="` + berr.Code + `", error_description="` + berr.Description + `"`
		if berr.Scope != "" {
			challenge += `, scope="` + berr.Scope + `"`
		}
	}
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, challenge)
}
