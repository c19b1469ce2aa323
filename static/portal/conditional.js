// Fields that apply only for some values of other fields (rushtrade.forms.ConditionalFieldsMixin):
// a wrapper [data-show-when="name=a b;!other=c"] is shown while the control `name` has value
// a or b and `other` has not c (a checkbox reads "true" or "false").
(function () {
  "use strict";
  function valueOf(form, name) {
    var controls = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < controls.length; i++) {
      var c = controls[i];
      if (c.type === "checkbox") return c.checked ? "true" : "false";
      if (c.type === "radio") { if (c.checked) return c.value; continue; }
      return c.value;
    }
    return "";
  }
  function holds(form, spec) {
    return spec.split(";").every(function (condition) {
      var hide = condition.charAt(0) === "!";
      var parts = (hide ? condition.slice(1) : condition).split("=");
      var matched = parts[1].split(" ").indexOf(valueOf(form, parts[0])) >= 0;
      return hide ? !matched : matched;
    });
  }
  function update(form) {
    form.querySelectorAll("[data-show-when]").forEach(function (row) {
      row.hidden = !holds(form, row.getAttribute("data-show-when"));
    });
  }
  document.querySelectorAll("form").forEach(function (form) {
    if (!form.querySelector("[data-show-when]")) return;
    form.addEventListener("change", function () { update(form); });
    update(form);
  });
})();
