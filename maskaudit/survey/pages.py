"""The survey's pages, script and style (Jinja templates, autoescaped; no inline script: the CSP forbids it)."""

BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><link rel="stylesheet" href="{{ url_for('static_file', name='survey.css') }}"></head>
<body><main>{% block body %}{% endblock %}</main>
<footer><a href="{{ url_for('withdraw') }}" id="withdraw-link">Withdraw and delete my answers</a></footer>
{% block script %}{% endblock %}</body></html>"""

CONSENT = """{% extends "base.html" %}{% block body %}
<h1>{{ title }}</h1>
<p>This is a research study on how well people recognise faces wearing masks. In each of {{ n_trials }} short
trials you see one face with a mask and {{ k }} faces without. Pick the person who is the masked one, or
"none of these" if you think none is. {% if limited %}Some participants have a time limit per trial.{% endif %}</p>
<ul>
<li>Taking part is voluntary. You can stop at any time and withdraw: your answers are then deleted.</li>
<li>We store no name, e-mail, IP address or browser details: only a random code, your answers and how long
each took. Your answers are never shown to anyone else, and you are not shown the correct answers.</li>
<li>Keyboard: keys 1&ndash;{{ k }} choose a face, 0 or N chooses "none of these". A mouse or touch works too.</li>
</ul>
{% if contact %}<p>Questions: {{ contact }}</p>{% endif %}
<form method="post" action="{{ url_for('consent') }}">
<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
<label><input type="checkbox" name="adult" value="yes" required> I am 18 or older.</label><br>
<label><input type="checkbox" name="consent" value="yes" required> I have read the above and agree to take part.</label><br>
<button type="submit" id="start">Start</button>
</form>{% endblock %}"""

TRIAL = """{% extends "base.html" %}{% block body %}
<p class="progress" id="progress">Trial {{ number }} of {{ total }}</p>
<progress max="{{ total }}" value="{{ number - 1 }}"></progress>
{% if limit %}<p class="timer">Time left: <span id="timer" data-limit-ms="{{ limit * 1000 }}">{{ limit }}</span> s</p>{% endif %}
<form method="post" action="{{ url_for('answer') }}" id="trial-form">
<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
<input type="hidden" name="trial_id" value="{{ trial_id }}">
<input type="hidden" name="elapsed_ms" id="elapsed" value="">
<div class="probe"><p>Masked face</p><img src="{{ url_for('image', name=probe) }}" alt="masked face" id="probe"></div>
<p>Which of these is the same person?</p>
<div class="candidates">
{% for name in candidates %}<button type="submit" name="choice" value="{{ loop.index0 }}" class="candidate" id="choice-{{ loop.index0 }}" data-key="{{ loop.index }}">
<img src="{{ url_for('image', name=name) }}" alt="face {{ loop.index }}"><span>{{ loop.index }}</span></button>
{% endfor %}
</div>
<button type="submit" name="choice" value="-1" id="choice-none" data-key="0">None of these (0)</button>
</form>{% endblock %}
{% block script %}<script src="{{ url_for('static_file', name='survey.js') }}"></script>{% endblock %}"""

DONE = """{% extends "base.html" %}{% block body %}
<h1>Thank you</h1><p id="done">You have answered every trial. Your answers are saved.</p>
<p>Your participant code is <code id="code">{{ code }}</code>. Keep it if you may want to withdraw later:
enter it on the <a href="{{ url_for('withdraw') }}">withdrawal page</a> and every answer of yours is deleted.</p>
{% endblock %}"""

WITHDRAW = """{% extends "base.html" %}{% block body %}
<h1>Withdraw</h1>
{% if deleted is not none %}<p id="withdrawn">You have withdrawn. {{ deleted }} answer(s) were deleted.</p>
{% else %}
<p>Withdrawing deletes every answer you gave. This cannot be undone.</p>
<form method="post" action="{{ url_for('withdraw') }}">
<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
{% if not in_session %}<label>Participant code <input name="code" id="code-field" autocomplete="off" required></label>{% endif %}
<button type="submit" id="confirm-withdraw">Withdraw and delete my answers</button>
</form>{% endif %}{% endblock %}"""

ERROR = """{% extends "base.html" %}{% block body %}
<h1>{{ heading }}</h1><p id="error">{{ message }}</p><p><a href="{{ url_for('index') }}">Back to the start</a></p>
{% endblock %}"""

TEMPLATES = {
    "base.html": BASE,
    "consent.html": CONSENT,
    "trial.html": TRIAL,
    "done.html": DONE,
    "withdraw.html": WITHDRAW,
    "error.html": ERROR,
}

SCRIPT = """(function () {
  'use strict';
  var form = document.getElementById('trial-form');
  if (!form) { return; }
  var start = performance.now();
  var sent = false;
  var elapsed = document.getElementById('elapsed');
  function submit(value) {
    if (sent) { return; }
    sent = true;
    elapsed.value = String(Math.round(performance.now() - start));
    var field = document.createElement('input');
    field.type = 'hidden'; field.name = 'choice'; field.value = value;
    form.appendChild(field);
    form.submit();
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var button = event.submitter;
    if (button && button.name === 'choice') { submit(button.value); }
  });
  document.addEventListener('keydown', function (event) {
    var key = event.key.toLowerCase();
    if (key === 'n') { key = '0'; }
    var button = form.querySelector('button[data-key="' + key + '"]');
    if (button) { event.preventDefault(); submit(button.value); }
  });
  var timer = document.getElementById('timer');
  if (timer) {
    var limit = parseInt(timer.getAttribute('data-limit-ms'), 10);
    var tick = function () {
      var left = limit - (performance.now() - start);
      if (left <= 0) { timer.textContent = '0'; submit('timeout'); return; }
      timer.textContent = String(Math.ceil(left / 1000));
      window.setTimeout(tick, 200);
    };
    tick();
  }
}());
"""

STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}
img{max-width:10rem;max-height:10rem;display:block}
.probe img{max-width:14rem;max-height:14rem}
.candidates{display:flex;flex-wrap:wrap;gap:.5rem}
button{font-size:1rem;padding:.4rem}
.candidate span{display:block;text-align:center;font-weight:bold}
footer{margin-top:2rem;font-size:.9rem}
"""
