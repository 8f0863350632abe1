package web

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/oauthdesk/oauthdesk/internal/admin"
	"github.com/oauthdesk/oauthdesk/internal/apperr"
	"github.com/oauthdesk/oauthdesk/views"
)

// Import is the app import slice (implemented by *admin.ImportService).
type Import interface {
	CheckImport(ctx context.Context, data []byte, defaultOwner string) ([]admin.ImportRecord, []admin.ImportChange, error)
	Import(ctx context.Context, records []admin.ImportRecord, defaultOwner string) (admin.ImportResult, error)
}

// maxImportBytes bounds an uploaded inventory file.
const maxImportBytes = 512 << 10

// importForm is GET /admin/apps/import.
func (s *Server) importForm(c echo.Context) error {
	return render(c, http.StatusOK, views.Import(views.ImportPage{Nav: s.nav(c, "apps")}))
}

// importPreview is POST /admin/apps/import (multipart field file): the
// whole file is validated and planned, and the preview shows what would
// change; nothing is written yet.
func (s *Server) importPreview(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return s.renderImport(c, views.ImportPage{Error: "Choose a CSV or JSON file to import."}, http.StatusBadRequest)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxImportBytes {
		return s.renderImport(c, views.ImportPage{Error: "The file is larger than 512 KiB; split it."}, http.StatusRequestEntityTooLarge)
	}
	return s.planImport(c, fh.Filename, data, false)
}

// importConfirm is POST /admin/apps/import/confirm: imports the previewed
// file (validated and planned again, in the import's transaction).
func (s *Server) importConfirm(c echo.Context) error {
	data, err := base64.StdEncoding.DecodeString(c.FormValue("data"))
	if err != nil || len(data) == 0 || len(data) > maxImportBytes {
		return apperr.Errorf(apperr.Invalid, "The previewed file was lost; upload it again.")
	}
	return s.planImport(c, c.FormValue("filename"), data, true)
}

func (s *Server) planImport(c echo.Context, filename string, data []byte, apply bool) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	p := views.ImportPage{Filename: filename}
	// Every problem of the file in one round: its rows and the database.
	recs, plan, err := s.cfg.Import.CheckImport(ctx, data, u.Username)
	if err == nil && apply { // Import plans again inside its own transaction
		var res admin.ImportResult
		if res, err = s.cfg.Import.Import(ctx, recs, u.Username); err == nil {
			return s.flashTo(c, "/admin/apps", filename+" imported: "+plural(int64(res.Created), "app", "apps")+" created, "+
				plural(int64(res.Updated), "updated", "updated")+", "+plural(int64(res.Unchanged), "unchanged", "unchanged")+".")
		}
	}
	var bad admin.ImportErrors
	switch {
	case errors.As(err, &bad):
		p.ProblemCount = len(bad)
		for _, x := range bad[:min(len(bad), views.MaxImportProblems)] {
			p.Problems = append(p.Problems, views.ImportProblemView{Line: x.Line, Reason: x.Reason})
		}
		return s.renderImport(c, p, http.StatusUnprocessableEntity)
	case apperr.Is(err, apperr.Invalid):
		p.Error = apperr.ErrorMessage(err)
		return s.renderImport(c, p, http.StatusUnprocessableEntity)
	case err != nil:
		return err
	}
	p.Data = base64.StdEncoding.EncodeToString(data)
	for _, ch := range plan {
		action := "update"
		if ch.Create {
			action = "create"
		} else if len(ch.Diff) == 0 {
			action = "unchanged"
		}
		p.Changes = append(p.Changes, views.ImportChangeView{Line: ch.Record.Line, ClientID: ch.Record.ClientID, Name: ch.Record.Name,
			Expires: ch.Record.SecretExpiresAt.Format(time.DateOnly), Action: action, Diff: ch.Diff})
	}
	return s.renderImport(c, p, http.StatusOK)
}

func (s *Server) renderImport(c echo.Context, p views.ImportPage, status int) error {
	p.Nav = s.nav(c, "apps")
	return render(c, status, views.Import(p))
}
