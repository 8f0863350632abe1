package store

import (
	"context"
	"slices"
	"strings"
	"unicode"
)

// App search (migration 00011): app_search_terms holds each
// app's search terms, and a query matches the apps that have, for every
// word of the query, a term starting with it: a range of the table's
// primary key per word, never a walk of every app.

// maxSearchWords bounds how many words of a query are matched (each is
// one index range).
const maxSearchWords = 8

// searchWords splits s into its lowercased words: runs of letters and
// digits (every other character separates), without repeats, in order.
func searchWords(s string) []string {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := words[:0]
	for _, w := range words {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// clientIDTerm is the term of a client id: "#" and the lowercased id, so
// that a word (never holding "#") does not match inside client ids.
func clientIDTerm(s string) string { return "#" + strings.ToLower(s) }

// appSearchTerms returns the terms of an app: the words of its name and
// company and its client id term.
func appSearchTerms(clientID, name, company string) []string {
	return append(searchWords(name+" "+company), clientIDTerm(clientID))
}

// syncAppTerms replaces the search terms of an app; call it inside the
// write transaction that changes the app's name or company.
func (db *DB) syncAppTerms(ctx context.Context, clientID, name, company string) error {
	if err := db.wr(ctx).Exec(`DELETE FROM app_search_terms WHERE client_id = ?`, clientID).Error; err != nil {
		return translate(err, "app search terms")
	}
	terms := appSearchTerms(clientID, name, company)
	marks := strings.TrimSuffix(strings.Repeat("(?, ?), ", len(terms)), ", ")
	args := make([]any, 0, 2*len(terms))
	for _, t := range terms {
		args = append(args, t, clientID)
	}
	return translate(db.wr(ctx).Exec(`INSERT INTO app_search_terms (term, client_id) VALUES `+marks, args...).Error, "app search terms")
}

// prefixEnd is the exclusive upper bound of the strings that start with
// p, under bytewise comparison (SQLite BINARY, PostgreSQL COLLATE "C"):
// p followed by the largest code point.
func prefixEnd(p string) string { return p + "\U0010FFFF" }

// searchClause returns the WHERE condition (on apps a) matching the apps
// with a term starting with each word of q, in its IN form (driven from
// app_search_terms) and its EXISTS form (a probe per app, by
// app_search_terms_by_app), and the arguments of either; "" when q has
// no word.
func searchClause(q string) (in, exists string, args []any) {
	words := searchWords(q)
	if len(words) > maxSearchWords {
		words = words[:maxSearchWords]
	}
	var b, e strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(` AND `)
			e.WriteString(` AND `)
		}
		b.WriteString(`a.client_id IN (SELECT t.client_id FROM app_search_terms t WHERE t.term >= ? AND t.term < ?)`)
		e.WriteString(`EXISTS (SELECT 1 FROM app_search_terms t WHERE t.client_id = a.client_id AND t.term >= ? AND t.term < ?)`)
		args = append(args, w, prefixEnd(w))
	}
	return b.String(), e.String(), args
}
