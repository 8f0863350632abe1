// Submits the form_post response page's form (OAuth 2.0 Form Post
// Response Mode): served as a file because the CSP allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  var f = document.getElementById("form-post");
  if (f) { f.submit(); }
});
