// Submit the form marked data-autosubmit at once: the seed's POST redirect to redirect_url.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form) form.submit();
})();
