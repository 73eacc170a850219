/*
 * wirkung — the browser front end (served at / with web/index.html and web/app.css).
 *
 * This file owns what the page does: asking the JSON API of its own origin (with the
 * token of this tab, if the server wants one), keeping the page state in location.hash,
 * the five views (Verlauf, Vergleich, Kontrast, Tabelle, Katalog), the Vega-Lite specs of
 * the charts, the downloads, and the German/English wording. Every number shown comes
 * from an API answer; a withheld or unavailable cell is never drawn as a number.
 *
 * Vega runs under a strict Content-Security-Policy: with `ast: true` vega-embed 7
 * evaluates expressions with its bundled AST interpreter (vega.expressionInterpreter when
 * present), so no eval / new Function; no default style is injected (app.css has it).
 *
 * For browser tests (SVG renderer; wait for document.body.dataset.state to be 'ready' or
 * 'error'; window.wirkung.rendered counts finished renders):
 *   Verlauf, one point per unit and available month:  #chart-verlauf g.points_marks > path
 *   Verlauf, one mark per unit and withheld or unavailable month (grey "×"):
 *                                                     #chart-verlauf g.withheld_marks > text
 *   Vergleich, units flagged above/below the 99.8 % limits:
 *                                                     #chart-vergleich g.flagged_marks > path
 *   Vergleich, units within:                          #chart-vergleich g.units_marks > path
 *   Tabelle, a withheld cell: #table-tabelle td.withheld ("•", title "zurückgehalten (…)");
 *            an unavailable cell: #table-tabelle td.unavailable ("–", title = reason)
 */
(() => {
  'use strict';

  // ------------------------------------------------------------------ i18n

  /** Every UI string as [German, English]; a function takes the values it names. */
  const I18N = {
    text: {
      locale: ['de-DE', 'en-GB'],
      title: ['wirkung – Kennzahlen nach § 48a SGB II', 'wirkung – SGB II indicators (§ 48a)'],
      subtitle: ['Kennzahlen nach § 48a SGB II', 'indicators under § 48a SGB II'],
      langButton: ['EN', 'DE'], langSwitch: ['Switch to English', 'Auf Deutsch umschalten'], langOther: ['en', 'de'],
      dataInfo: [(v, from, to) => `Datenstand ${v} · Daten ${from} bis ${to}`, (v, from, to) => `Data version ${v} · months ${from} to ${to}`],
      dataLoading: ['Der Server lädt die Daten …', 'The server is loading its data …'],
      logout: ['Abmelden', 'Sign out'],
      tokenIntro: ['Dieser Server verlangt einen Zugangsschlüssel. Er wird nur in diesem Browser-Tab gespeichert.',
        'This server needs an access token. It is kept in this browser tab only.'],
      tokenLabel: ['Zugangsschlüssel', 'Access token'], tokenSubmit: ['Anmelden', 'Sign in'],
      tokenNeeded: ['Bitte den Zugangsschlüssel eingeben.', 'Please enter the access token.'],
      tokenRejected: ['Der Zugangsschlüssel wurde nicht angenommen. Bitte erneut eingeben.', 'The access token was not accepted. Please enter it again.'],
      forbidden: [(d) => `Außerhalb Ihres Zugriffs: ${d}`, (d) => `Outside your access: ${d}`],
      networkError: ['Der Server ist nicht erreichbar', 'The server cannot be reached'],
      noCharts: ['Die Diagramm-Bibliotheken fehlen.', 'The chart libraries are missing.'],
      noRows: ['Für diese Auswahl gibt es keine Zeilen.', 'There are no rows for this selection.'],
      indicator: ['Kennzahl', 'Indicator'], jobcenter: ['Jobcenter', 'Jobcenter'], from: ['Von', 'From'], to: ['Bis', 'To'],
      views: ['Ansichten', 'Views'], tabVerlauf: ['Verlauf', 'Trend'], tabVergleich: ['Vergleich', 'Comparison'],
      tabKontrast: ['Kontrast', 'Contrast'], tabTabelle: ['Tabelle', 'Table'], tabKatalog: ['Katalog', 'Catalogue'],
      units: ['Einheiten', 'Units'], unitsJobcenter: ['Jobcenter insgesamt', 'Jobcenter as a whole'],
      unitsDistricts: ['Bezirke des Jobcenters', "The jobcenter's districts"], unitsType: ['Vergleichstyp des Jobcenters', "The jobcenter's comparison type"],
      typeName: [(x) => `Vergleichstyp ${x}`, (x) => `Comparison type ${x}`],
      month: ['Monat', 'Month'], across: ['Vergleich über', 'Compare across'],
      acrossDistricts: ['Bezirke des Jobcenters', "the jobcenter's districts"], acrossJobcenters: ['alle Jobcenter', 'all jobcenters'],
      adjust: ['nach Geschlecht und Alter adjustiert', 'adjusted for sex and age'],
      dimension: ['Merkmal', 'Dimension'], groups: ['Gruppen', 'Groups'], by: ['Zeilen', 'Rows'], download: ['Herunterladen', 'Download'],
      chartVerlauf: ['Verlauf je Monat', 'Trend by month'], chartVergleich: ['Trichterdiagramm', 'Funnel plot'],
      chartKontrast: ['Gruppen im Kontrast', 'Groups contrasted'],
      verlaufHint: ['Linie und Punkte: Wert je Monat; Band: 95 %-Konfidenzintervall; gestrichelt: Zielwert; × am unteren Rand: zurückgehaltener oder nicht verfügbarer Monat.',
        'Line and points: value by month; band: 95 % confidence interval; dashed: target; × at the bottom: a withheld or unavailable month.'],
      tabelleHint: ['• zurückgehalten (Geheimhaltung), – nicht verfügbar; der Grund steht im Tooltip.',
        '• withheld (disclosure control), – not available; the tooltip gives the reason.'],
      licences: ['Diagramme: Vega, Vega-Lite, vega-embed (BSD-3-Clause).', 'Charts: Vega, Vega-Lite, vega-embed (BSD-3-Clause).'],
      unit: ['Einheit', 'Unit'], value: ['Wert', 'Value'], fraction: ['Zähler / Nenner', 'Numerator / denominator'],
      status: ['Status', 'Status'], target: ['Zielwert', 'Target'], rank: ['Rang', 'Rank'], interval: ['95 %-KI', '95 % CI'],
      flag: ['Einordnung (99,8 %)', 'Position (99.8 %)'], flag95: ['Einordnung (95 %)', 'Position (95 %)'],
      ratio: ['O/E', 'O/E'], adjustedValue: ['adjustierter Wert', 'adjusted value'],
      axisValue: ['Wert in %', 'Value (%)'], axisChange: ['Veränderung in %', 'Change (%)'], axisDenominator: ['Nenner', 'Denominator'],
      axisExpected: ['Erwartet (E)', 'Expected (E)'], axisRatio: ['Beobachtet / erwartet (O/E)', 'Observed / expected (O/E)'],
      limits: ['Grenzen', 'Limits'], pooled: ['Gesamtwert', 'Pooled value'], limit95: ['95 %', '95%'], limit998: ['99,8 %', '99.8%'],
      above: ['über', 'above'], within: ['innerhalb', 'within'], below: ['unter', 'below'],
      suppressed: ['zurückgehalten', 'withheld'], primary: ['zurückgehalten (primär)', 'withheld (primary)'],
      secondary: ['zurückgehalten (sekundär)', 'withheld (secondary)'],
      unavailable: [(r) => `nicht verfügbar: ${r}`, (r) => `not available: ${r}`],
      percent: [(n) => `${n} %`, (n) => `${n}%`], range: [(a, b) => `${a} bis ${b}`, (a, b) => `${a} to ${b}`],
      noValue: ['ohne Angabe', 'not recorded'],
      dispersion: [(phi, n, tau2) => `Überdispersion: φ = ${phi} bei ${n} Einheiten (τ² = ${tau2}); `,
        (phi, n, tau2) => `Over-dispersion: φ = ${phi} over ${n} units (τ² = ${tau2}); `],
      widened: ['die Grenzen wurden um τ² erweitert.', 'the limits were widened by τ².'],
      notWidened: ['die Grenzen wurden nicht erweitert.', 'the limits were not widened.'],
      notOverdispersed: ['keine Überdispersion, die Grenzen sind die exakten.', 'no over-dispersion, the limits are the exact ones.'],
      needShare: ['Kontraste gibt es nur für Anteils-Kennzahlen (Anzeige „Anteil“); bitte eine solche Kennzahl wählen.',
        'Contrasts need a share indicator (display “share”); please choose one.'],
      chooseTwo: ['Bitte mindestens zwei Gruppen wählen.', 'Please choose at least two groups.'],
      noDimension: ['Diese Kennzahl hat kein Merkmal für einen Kontrast.', 'This indicator has no dimension to contrast.'],
      difference: [(v, lo, hi) => `Unterschied ${v} Punkte (95 %-KI ${lo} bis ${hi})`, (v, lo, hi) => `Difference ${v} points (95 % CI ${lo} to ${hi})`],
      direction: [(a, b) => `Anteil „${a}“ minus Anteil „${b}“`, (a, b) => `Share “${a}” minus share “${b}”`],
      relativeRisk: [(x) => `relatives Risiko ${x}`, (x) => `relative risk ${x}`],
      pBelow: ['p < 0,001', 'p < 0.001'], pValue: [(p) => `p = ${p}`, (p) => `p = ${p}`],
      two_proportion_z: ['Zwei-Stichproben-z-Test', 'two-proportion z-test'],
      fisher_exact: ['exakter Test nach Fisher', "Fisher's exact test"], chi_square: ['Chi-Quadrat-Test', 'chi-square test'],
      caption: [(ind, by, jc) => `${ind} nach ${by}, ${jc}`, (ind, by, jc) => `${ind} by ${by}, ${jc}`],
      kind: ['Art', 'Kind'], display: ['Anzeige', 'Display'], polarity: ['Richtung', 'Polarity'], legalBasis: ['Rechtsgrundlage', 'Legal basis'],
      intervalMethod: ['Intervall', 'Interval'], dimensions: ['Merkmale', 'Dimensions'], definition: ['Definition', 'Definition'],
    },
    /** Catalogue words and dimension values, by field: value → [German, English]. */
    terms: {
      kind: { kennzahl: ['Kennzahl', 'Key figure'], ergaenzungsgroesse: ['Ergänzungsgröße', 'Supplementary figure'], extension: ['Erweiterung', 'Extension'] },
      display: { rate: ['Quote', 'Rate'], share: ['Anteil', 'Share'], change: ['Veränderung', 'Change'] },
      polarity: { higher_is_better: ['höher ist besser', 'higher is better'], lower_is_better: ['niedriger ist besser', 'lower is better'], neutral: ['neutral', 'neutral'] },
      dimension: {
        jobcenter_id: ['Jobcenter', 'Jobcenter'], district_id: ['Bezirk', 'District'], comparison_type: ['Vergleichstyp', 'Comparison type'],
        sex: ['Geschlecht', 'Sex'], age_group: ['Altersgruppe', 'Age group'], citizenship: ['Staatsangehörigkeit', 'Citizenship'],
        single_parent: ['alleinerziehend', 'Single parent'], service: ['Leistung (§ 16a)', 'Service (§ 16a)'],
        invitation_format: ['Einladungsformat', 'Invitation format'], topic: ['Thema', 'Topic'], programme: ['Programm', 'Programme'],
      },
      sex: { f: ['Frauen', 'women'], m: ['Männer', 'men'] },
      age_group: { u25: ['unter 25', 'under 25'], '25_54': ['25 bis 54', '25 to 54'], '55plus': ['55 und älter', '55 and over'] },
      citizenship: { de: ['deutsch', 'German'], foreign: ['nicht deutsch', 'not German'] },
      single_parent: { true: ['ja', 'yes'], false: ['nein', 'no'] },
      service: { childcare: ['Kinderbetreuung', 'childcare'], home_care: ['häusliche Pflege', 'home care'],
        debt_counselling: ['Schuldnerberatung', 'debt counselling'], psychosocial: ['psychosoziale Betreuung', 'psychosocial support'],
        addiction_counselling: ['Suchtberatung', 'addiction counselling'] },
      invitation_format: { standard: ['Einladungsschreiben', 'letter'], contact_cafe: ['Kontaktcafé', 'contact café'], group_info: ['Gruppeninformation', 'group information'] },
      programme: { no_programme: ['ohne Programm', 'no programme'] },
    },
  };
  const LANGUAGES = ['de', 'en'];
  const langIndex = () => LANGUAGES.indexOf(state.lang);

  /** The UI text `key` in the current language; functions take their arguments. */
  function t(key, ...args) {
    const text = I18N.text[key]?.[langIndex()] ?? key;
    return typeof text === 'function' ? text(...args) : text;
  }

  /** A catalogue word or dimension value in the current language, or the value itself. */
  const term = (field, value) => I18N.terms[field]?.[String(value)]?.[langIndex()] ?? String(value);

  const numberFormats = new Map();
  function numberFormat(min, max) {
    const key = `${state.lang}|${min}|${max}`;
    if (!numberFormats.has(key)) {
      numberFormats.set(key, new Intl.NumberFormat(t('locale'), { minimumFractionDigits: min, maximumFractionDigits: max }));
    }
    return numberFormats.get(key);
  }

  /** A number with `digits` decimals in the page's language, a true minus sign; "–" for none. */
  function num(x, digits = 1) {
    return x == null || !Number.isFinite(x) ? '–' : numberFormat(digits, digits).format(x).replace('-', '−');
  }
  const signed = (x, digits = 1) => (x > 0 ? `+${num(x, digits)}` : num(x, digits));
  const percent = (x, digits = 1) => (x == null ? '–' : t('percent', num(x, digits)));
  const count = (x) => (x == null ? '–' : numberFormat(0, 1).format(x));
  const pText = (p) => (p < 0.001 ? t('pBelow') : t('pValue', num(p, 3)));

  /** An interval "a–b", or "a bis b" when a sign would make the dash ambiguous. */
  function range(lo, hi, digits = 1) {
    if (lo == null || hi == null) return '';
    return lo < 0 || hi < 0 ? t('range', num(lo, digits), num(hi, digits)) : `${num(lo, digits)}–${num(hi, digits)}`;
  }

  const monthFormats = new Map();
  /** "2017-12" as "Dez. 2017" / "Dec 2017". */
  function monthLabel(ym) {
    if (!monthFormats.has(state.lang)) {
      monthFormats.set(state.lang, new Intl.DateTimeFormat(t('locale'), { month: 'short', year: 'numeric', timeZone: 'UTC' }));
    }
    const [y, m] = ym.split('-').map(Number);
    return monthFormats.get(state.lang).format(Date.UTC(y, m - 1, 1));
  }

  /** The status of a withheld or unavailable figure in words. */
  function statusText(fig) {
    if (fig.status === 'suppressed') return fig.suppressed ? t(fig.suppressed) : t('suppressed');
    if (fig.status === 'unavailable') return t('unavailable', fig.reason ?? '');
    return '';
  }

  const dimLabel = (dim) => term('dimension', dim);

  /** A dimension value in words: unit names from /units, fixed domains from the dictionary. */
  function valueLabel(dim, value) {
    if (value == null) return t('noValue');
    if (dim === 'district_id') return names.districts.get(value) ?? value;
    if (dim === 'jobcenter_id') return names.jobcenters.get(value) ?? value;
    if (dim === 'comparison_type') return t('typeName', value);
    return term(dim, value);
  }

  // ------------------------------------------------------------ API client

  const TOKEN_KEY = 'wirkung.token';

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem.detail || problem.title || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  /** Not an error: a view that has nothing to draw says why (shown as information). */
  class Notice extends Error {}

  const encodeValue = (v) => encodeURIComponent(String(v)).replace(/%2C/gi, ',');

  /** `/api/v1/<path>?…` from the parameters that have a value, commas kept readable. */
  function apiUrl(path, params = {}) {
    const query = Object.entries(params)
      .filter(([, v]) => v != null && v !== '')
      .map(([k, v]) => `${k}=${encodeValue(v)}`)
      .join('&');
    return `/api/v1/${path}${query ? `?${query}` : ''}`;
  }

  const indicatorUrl = (what, params) => apiUrl(`indicators/${encodeURIComponent(state.indicator)}/${what}`, params);

  /** A GET to the own origin with the tab's token; a problem answer becomes an ApiError. */
  async function request(url, accept = 'application/json') {
    const headers = { Accept: accept };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(url, { headers, credentials: 'same-origin' });
    } catch (error) {
      throw new ApiError(0, { title: t('networkError'), detail: error.message });
    }
    if (!response.ok) throw new ApiError(response.status, await problemOf(response));
    return response;
  }

  async function problemOf(response) {
    try {
      const body = await response.json();
      return body && typeof body === 'object' ? body : {};
    } catch {
      return { title: `${response.status} ${response.statusText}` };
    }
  }

  /** JSON answers, kept per URL for the page's life (a failed one is forgotten). */
  const kept = new Map();
  function getJSON(url) {
    if (!kept.has(url)) {
      const answer = request(url).then((r) => r.json());
      answer.catch(() => kept.get(url) === answer && kept.delete(url));
      kept.set(url, answer);
    }
    return kept.get(url);
  }

  // ---------------------------------------------------------- state / hash

  const VIEW_NAMES = ['verlauf', 'vergleich', 'kontrast', 'tabelle', 'katalog'];
  const UNIT_DIMS = ['jobcenter_id', 'district_id', 'comparison_type'];
  const DEFAULT_INDICATOR = 'K2';
  const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
  const ADJUST = 'sex,age_group';

  const state = {
    view: 'verlauf', lang: 'de', indicator: null, jobcenter: null, from: null, to: null,
    units: 'jobcenter', // Verlauf: jobcenter | districts | comparison_type
    vmonth: null, across: 'district_id', adjust: false, // Vergleich (vmonth null: follows `to`)
    kdim: null, kgroups: [], kmonth: null, // Kontrast (kmonth null: follows `to`)
    by: 'district_id', // Tabelle
  };

  /** Loaded once: health, catalogue (by code), units, and names by id. */
  const data = { health: null, catalogue: [], byCode: new Map(), units: [] };
  const names = { jobcenters: new Map(), districts: new Map() };

  const indicator = () => data.byCode.get(state.indicator);
  const jobcenter = () => data.units.find((j) => j.jobcenter_id === state.jobcenter);
  const vmonth = () => state.vmonth ?? state.to;
  const kmonth = () => state.kmonth ?? state.to;

  /** Reads the hash; only well-formed values are taken. `month` belongs to the view named. */
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    const pick = (key, ok) => (p.has(key) && ok(p.get(key)) ? p.get(key) : null);
    state.view = pick('view', (v) => VIEW_NAMES.includes(v)) ?? state.view;
    state.lang = pick('lang', (v) => LANGUAGES.includes(v)) ?? state.lang;
    state.indicator = p.get('indicator') || state.indicator;
    state.jobcenter = p.get('jobcenter') || state.jobcenter;
    state.from = pick('from', (v) => MONTH.test(v)) ?? state.from;
    state.to = pick('to', (v) => MONTH.test(v)) ?? state.to;
    state.units = pick('units', (v) => ['jobcenter', 'districts', 'comparison_type'].includes(v)) ?? state.units;
    state.across = pick('across', (v) => ['district_id', 'jobcenter_id'].includes(v)) ?? state.across;
    if (p.has('adjust')) state.adjust = p.get('adjust') === ADJUST;
    state.by = p.get('by') || state.by;
    state.kdim = p.get('dimension') || state.kdim;
    if (p.has('groups')) state.kgroups = p.get('groups').split(',').filter(Boolean);
    const month = pick('month', (v) => MONTH.test(v));
    if (month && state.view === 'vergleich') state.vmonth = month;
    if (month && state.view === 'kontrast') state.kmonth = month;
  }

  /** Writes the shared state and the active view's options to the hash (no history entry). */
  function writeHash() {
    const p = new URLSearchParams();
    const set = (k, v) => v != null && v !== '' && p.set(k, v);
    set('view', state.view);
    set('indicator', state.indicator);
    set('jobcenter', state.jobcenter);
    set('from', state.from);
    set('to', state.to);
    if (state.view === 'verlauf') set('units', state.units);
    if (state.view === 'vergleich') {
      set('month', vmonth());
      set('across', state.across);
      if (adjustActive()) set('adjust', ADJUST);
    }
    if (state.view === 'kontrast') {
      set('dimension', state.kdim);
      set('groups', state.kgroups.join(','));
      set('month', kmonth());
    }
    if (state.view === 'tabelle') set('by', state.by);
    if (state.lang !== 'de') set('lang', state.lang);
    const hash = `#${p.toString().replace(/%2C/gi, ',')}`;
    if (hash !== location.hash) history.replaceState(null, '', hash);
  }

  /** Replaces what the loaded data does not know by defaults. */
  function normaliseState() {
    if (!data.byCode.has(state.indicator)) {
      state.indicator = data.byCode.has(DEFAULT_INDICATOR) ? DEFAULT_INDICATOR : data.catalogue[0]?.code ?? null;
    }
    if (!jobcenter()) state.jobcenter = data.units[0]?.jobcenter_id ?? null;
    const span = data.health?.data?.span;
    if (span && (!state.to || state.to > span.to || state.to < span.from)) state.to = span.to;
    if (span && (!state.from || state.from > state.to || state.from < span.from)) {
      state.from = maxMonth(addMonths(state.to, -11), span.from);
    }
    if (state.units === 'comparison_type' && !jobcenter()?.comparison_type) state.units = 'jobcenter';
    if (!tabelleDims().includes(state.by)) state.by = 'district_id';
  }

  function addMonths(ym, n) {
    const [y, m] = ym.split('-').map(Number);
    const i = y * 12 + (m - 1) + n;
    return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
  }
  const maxMonth = (a, b) => (a > b ? a : b);

  function monthsBetween(from, to) {
    const months = [];
    for (let m = from; m <= to && months.length < 600; m = addMonths(m, 1)) months.push(m);
    return months;
  }

  // ------------------------------------------------------------- page & DOM

  const $ = (selector) => document.querySelector(selector);

  /** An element with properties (`class`, `dataset`, attributes) and children. */
  function h(tag, props = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (v == null) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k in el) el[k] = v;
      else el.setAttribute(k, v);
    }
    el.append(...children.flat().filter((c) => c != null));
    return el;
  }

  let resolveReady;
  const wirkung = {
    ready: new Promise((resolve) => { resolveReady = resolve; }),
    views: { verlauf: null, vergleich: null, kontrast: null },
    answers: { verlauf: null, vergleich: null, kontrast: null, tabelle: null },
    rendered: 0,
  };
  window.wirkung = wirkung;

  const setPageState = (s) => { document.body.dataset.state = s; };

  /** Shows `text` in #message (class `error` or `info`); an empty text hides it. */
  function showMessage(text, kind = 'error') {
    const box = $('#message');
    box.textContent = text;
    box.className = text ? kind : '';
    box.hidden = !text;
  }
  const clearMessage = () => showMessage('');

  /** A problem answer in words: 403 as "outside your access", else title and detail. */
  function showError(error) {
    const problem = error.problem ?? {};
    const detail = problem.detail ?? error.message;
    if (error.status === 403) showMessage(t('forbidden', detail));
    else showMessage(problem.title && detail !== problem.title ? `${problem.title}: ${detail}` : detail);
  }

  /** Puts the static texts and the options' labels into the current language. */
  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = t('title');
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-aria-label]').forEach((el) => el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel)));
    const lang = $('#lang');
    lang.textContent = t('langButton');
    lang.lang = t('langOther');
    lang.setAttribute('aria-label', t('langSwitch'));
    showHealth();
    fillIndicatorSelect();
  }

  function showHealth() {
    const d = data.health?.data;
    $('#data-info').textContent = d ? t('dataInfo', d.version, d.span.from, d.span.to) : '';
  }

  function fillSelect(select, options, value) {
    select.replaceChildren(...options.map(([v, text]) => h('option', { value: v }, text)));
    if (options.some(([v]) => v === value)) select.value = value;
  }

  function fillIndicatorSelect() {
    const name = (i) => (state.lang === 'en' ? i.name_en : i.name_de);
    fillSelect($('#indicator'), data.catalogue.map((i) => [i.code, `${i.code} – ${name(i)}`]), state.indicator);
  }

  function fillJobcenterSelect() {
    fillSelect($('#jobcenter'), data.units.map((j) => [j.jobcenter_id, `${j.name} (${j.jobcenter_id})`]), state.jobcenter);
  }

  /** Sets every control from the state, with the options that depend on indicator and jobcenter. */
  function syncControls() {
    const span = data.health?.data?.span;
    for (const id of ['#from', '#to', '#vergleich-month', '#kontrast-month']) {
      if (span) Object.assign($(id), { min: span.from, max: span.to });
    }
    $('#indicator').value = state.indicator ?? '';
    $('#jobcenter').value = state.jobcenter ?? '';
    $('#from').value = state.from ?? '';
    $('#to').value = state.to ?? '';
    const typeOption = $('#verlauf-units option[value="comparison_type"]');
    typeOption.hidden = typeOption.disabled = !jobcenter()?.comparison_type;
    $('#verlauf-units').value = state.units;
    $('#vergleich-month').value = vmonth() ?? '';
    $('#vergleich-across').value = state.across;
    $('#vergleich-adjust').disabled = !canAdjust();
    $('#vergleich-adjust').checked = adjustActive();
    $('#kontrast-month').value = kmonth() ?? '';
    fillSelect($('#kontrast-dimension'), kontrastDims().map((d) => [d, dimLabel(d)]), state.kdim);
    fillSelect($('#tabelle-by'), tabelleDims().map((d) => [d, dimLabel(d)]), state.by);
  }

  function showSection(view) {
    for (const name of VIEW_NAMES) {
      $(`#view-${name}`).hidden = name !== view;
      const tab = $(`button[data-view="${name}"]`);
      tab.setAttribute('aria-selected', String(name === view));
      tab.tabIndex = name === view ? 0 : -1;
    }
  }

  // --------------------------------------------------------------- charts

  const charts = {};

  const FORMAT_LOCALES = {
    de: { decimal: ',', thousands: '.', grouping: [3], currency: ['', '\u00a0€'] },
    en: { decimal: '.', thousands: ',', grouping: [3], currency: ['£', ''] },
  };

  function embedOptions() {
    return {
      mode: 'vega-lite',
      ast: true, // vega-embed 7 then interprets expressions (its bundled vega-interpreter): no eval under CSP
      ...(vega.expressionInterpreter ? { expr: vega.expressionInterpreter } : {}),
      actions: false,
      renderer: 'svg',
      defaultStyle: false,
      tooltip: { disableDefaultStyle: true },
      formatLocale: FORMAT_LOCALES[state.lang],
    };
  }

  const CHART_CONFIG = {
    font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    view: { stroke: null },
    axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
    legend: { orient: 'bottom', labelLimit: 260, titleFontSize: 12, labelFontSize: 11 },
  };

  function dropChart(view) {
    charts[view]?.finalize();
    charts[view] = null;
    if (view in wirkung.views) wirkung.views[view] = null;
    $(`#chart-${view}`)?.replaceChildren();
  }

  /** Draws `spec` into #chart-<view>, replacing the chart drawn before. */
  async function draw(view, spec, current) {
    dropChart(view);
    const result = await vegaEmbed($(`#chart-${view}`), { ...spec, config: CHART_CONFIG }, embedOptions());
    if (!current()) {
      result.finalize();
      return;
    }
    charts[view] = result;
    wirkung.views[view] = result.view;
  }

  const isPublished = (fig) => fig.status === 'available' && fig.value != null;
  const tooltip = (...pairs) => pairs.map(([field, title]) => ({ field, title, type: 'nominal' }));

  /** The figure's value with its interval, e.g. "24,5 % (23,5–25,6)". */
  function valueWithInterval(fig, display) {
    const v = display === 'change' ? t('percent', signed(fig.value)) : percent(fig.value);
    const ci = range(fig.ci_low, fig.ci_high);
    return ci ? `${v} (${ci})` : v;
  }

  // ---------------------------------------------------------------- Verlauf

  function verlaufQuestion() {
    const q = { from: state.from, to: state.to };
    if (state.units === 'districts') return { ...q, by: 'district_id', jobcenter_id: state.jobcenter };
    if (state.units === 'comparison_type') return { ...q, comparison_type: jobcenter()?.comparison_type };
    return { ...q, jobcenter_id: state.jobcenter };
  }

  function verlaufUnit(row) {
    if (state.units === 'districts') return valueLabel('district_id', row.district_id);
    if (state.units === 'comparison_type') return t('typeName', jobcenter()?.comparison_type);
    return jobcenter()?.name ?? state.jobcenter;
  }

  /** Splits the rows into points (one per unit and published month), gaps and target segments. */
  function verlaufSeries(rows, display) {
    const out = { units: [], points: [], withheld: [], targets: [] };
    const segment = new Map();
    const lanes = new Map();
    const targets = new Map();
    for (const row of rows) {
      const unit = verlaufUnit(row);
      if (!out.units.includes(unit)) out.units.push(unit);
      const month = `${row.month}-01`;
      const when = monthLabel(row.month);
      const seg = segment.get(unit) ?? { n: 0, open: false };
      if (isPublished(row)) {
        if (!seg.open) Object.assign(seg, { n: seg.n + 1, open: true });
        const value = valueWithInterval(row, display);
        out.points.push({
          unit, month, value: row.value, lo: row.ci_low, hi: row.ci_high, seg: `${unit}#${seg.n}`,
          tipValue: value, tipMonth: when, tipFraction: `${count(row.numerator)} / ${count(row.denominator)}`,
          desc: `${unit}, ${when}: ${value}`,
        });
      } else {
        seg.open = false;
        const lane = lanes.get(row.month) ?? 0;
        lanes.set(row.month, lane + 1);
        const status = statusText(row);
        out.withheld.push({ unit, month, lane: -8 - 12 * lane, tipMonth: when, tipStatus: status, desc: `${unit}, ${when}: ${status}` });
      }
      segment.set(unit, seg);
      if (row.target) addTarget(targets, unit, row, display);
    }
    out.targets = [...targets.values()];
    return out;
  }

  /** One dashed segment per unit and target (a target holds for a calendar year). */
  function addTarget(targets, unit, row, display) {
    const key = `${unit}|${row.month.slice(0, 4)}|${row.target.value}`;
    const seg = targets.get(key);
    if (seg) {
      seg.end = `${row.month}-01`;
      return;
    }
    const value = display === 'change' ? t('percent', signed(row.target.value)) : percent(row.target.value);
    targets.set(key, {
      unit, target: row.target.value, start: `${row.month}-01`, end: `${row.month}-01`,
      tipTarget: row.target.source ? `${value} (${row.target.source})` : value, tipMonth: row.month.slice(0, 4),
      desc: `${unit}, ${t('target')} ${row.month.slice(0, 4)}: ${value}`,
    });
  }

  function verlaufSpec(series, ind) {
    const x = { field: 'month', type: 'temporal', timeUnit: 'utcyearmonth', title: t('month'), axis: { format: '%m/%Y', labelOverlap: true } };
    const yTitle = t(ind.display === 'change' ? 'axisChange' : 'axisValue');
    const y = (field) => ({ field, type: 'quantitative', title: yTitle, scale: { zero: false } });
    const color = { field: 'unit', type: 'nominal', title: t('unit'), scale: { domain: series.units } };
    const withBand = series.points.filter((p) => p.lo != null && p.hi != null);
    const layer = [];
    if (withBand.length) {
      layer.push({ name: 'bands', data: { values: withBand }, mark: { type: 'area', opacity: 0.15, aria: false },
        encoding: { x, y: y('lo'), y2: { field: 'hi' }, color, detail: { field: 'seg' } } });
    }
    if (series.points.length) {
      layer.push(
        { name: 'lines', data: { values: series.points }, mark: { type: 'line', strokeWidth: 2, aria: false },
          encoding: { x, y: y('value'), color, detail: { field: 'seg' } } },
        { name: 'points', data: { values: series.points }, mark: { type: 'point', filled: true, size: 45 },
          encoding: { x, y: y('value'), color, description: { field: 'desc' },
            tooltip: tooltip(['unit', t('unit')], ['tipMonth', t('month')], ['tipValue', t('value')], ['tipFraction', t('fraction')]) } },
      );
    }
    if (series.targets.length) {
      layer.push({ name: 'targets', data: { values: series.targets }, mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { x: { ...x, field: 'start' }, x2: { field: 'end', timeUnit: 'utcyearmonth' }, y: y('target'), color, description: { field: 'desc' },
          tooltip: tooltip(['unit', t('unit')], ['tipMonth', t('month')], ['tipTarget', t('target')]) } });
    }
    if (series.withheld.length) {
      layer.push({ name: 'withheld', data: { values: series.withheld },
        mark: { type: 'text', text: '×', fontSize: 15, fontWeight: 'bold', color: '#6b6b6b', baseline: 'middle' },
        encoding: { x, y: { value: 'height' }, yOffset: { field: 'lane', type: 'quantitative', scale: null },
          description: { field: 'desc' },
          tooltip: tooltip(['unit', t('unit')], ['tipMonth', t('month')], ['tipStatus', t('status')]) } });
    }
    return { description: t('chartVerlauf'), width: 'container', height: 320, layer };
  }

  async function renderVerlauf(current) {
    const ind = indicator();
    const answer = await getJSON(setQuestion('verlauf', indicatorUrl('values', verlaufQuestion())));
    if (!current()) return;
    wirkung.answers.verlauf = answer;
    if (!answer.rows.length) throw new Notice(t('noRows'));
    await draw('verlauf', verlaufSpec(verlaufSeries(answer.rows, ind.display), ind), current);
  }

  // --------------------------------------------------------------- Vergleich

  const canAdjust = () => {
    const ind = indicator();
    return !!ind && ['share', 'rate'].includes(ind.display) && ['sex', 'age_group'].every((d) => ind.dimensions.includes(d));
  };
  const adjustActive = () => state.adjust && canAdjust();

  function vergleichQuestion() {
    const q = { month: vmonth(), across: state.across };
    if (state.across === 'district_id') q.jobcenter_id = state.jobcenter;
    if (adjustActive()) q.adjust = ADJUST;
    return q;
  }

  /** The plotted figure of a unit: crude (x = denominator, y = value) or adjusted (x = E, y = O/E). */
  function comparedFigure(unit, adjusted) {
    const a = adjusted ? unit.adjusted ?? { status: 'unavailable', reason: '' } : unit;
    const y = adjusted ? a.ratio : a.value;
    return {
      name: unit.name ?? unit.unit, status: a.status, reason: a.reason, suppressed: unit.suppressed,
      published: a.status === 'available' && y != null, x: adjusted ? a.expected : unit.denominator, y,
      lo: a.ci_low, hi: a.ci_high, rank: a.rank, flag: a.flag, flag95: a.flag95,
      funnel95: a.funnel95, funnel998: a.funnel998, value: a.value,
    };
  }

  function funnelLimits(figures) {
    const sorted = figures.filter((f) => f.published && f.funnel95 && f.funnel998).sort((a, b) => a.x - b.x);
    const lines = [];
    for (const f of sorted) {
      lines.push({ x: f.x, y: f.funnel95[0], series: '95lo', level: t('limit95') }, { x: f.x, y: f.funnel95[1], series: '95hi', level: t('limit95') });
      lines.push({ x: f.x, y: f.funnel998[0], series: '998lo', level: t('limit998') }, { x: f.x, y: f.funnel998[1], series: '998hi', level: t('limit998') });
    }
    return lines;
  }

  function vergleichSpec(figures, reference, adjusted, display) {
    const x = { field: 'x', type: 'quantitative', title: t(adjusted ? 'axisExpected' : 'axisDenominator'), scale: { zero: false } };
    const y = { field: 'y', type: 'quantitative', title: t(adjusted ? 'axisRatio' : (display === 'change' ? 'axisChange' : 'axisValue')), scale: { zero: false } };
    const shown = (f) => (adjusted ? `${num(f.y, 3)} (${range(f.lo, f.hi, 3)})` : valueWithInterval({ value: f.y, ci_low: f.lo, ci_high: f.hi }, display));
    const points = figures.filter((f) => f.published).map((f) => ({
      ...f, flagText: f.flag ? t(f.flag) : '–', flag95Text: f.flag95 ? t(f.flag95) : '–', tipValue: shown(f),
      tipX: count(f.x), desc: `${f.name}: ${shown(f)}${f.flag ? `, ${t(f.flag)}` : ''}`,
    }));
    const flagged = (p) => p.flag === 'above' || p.flag === 'below';
    const color = !points.some((p) => p.flag) ? { value: '#4c78a8' } : { field: 'flagText', type: 'nominal', title: t('flag'),
      scale: { domain: [t('within'), t('above'), t('below')], range: ['#4c78a8', '#d55e00', '#b0337a'] } };
    const tip = tooltip(['name', t('unit')], ['tipValue', adjusted ? t('ratio') : t('value')],
      ['tipX', t(adjusted ? 'axisExpected' : 'axisDenominator')], ['flagText', t('flag')], ['flag95Text', t('flag95')]);
    const limits = funnelLimits(figures);
    const layer = [];
    if (limits.length) {
      layer.push({ name: 'limits', data: { values: limits }, mark: { type: 'line', color: '#8c8c8c', strokeWidth: 1, aria: false },
        encoding: { x, y, detail: { field: 'series' }, strokeDash: { field: 'level', type: 'nominal', title: t('limits'),
          scale: { domain: [t('limit95'), t('limit998')], range: [[5, 4], [1, 0]] } } } });
    }
    if (reference != null) {
      const text = adjusted ? '1' : percent(reference);
      layer.push({ name: 'pooled', data: { values: [{ y: reference, tip: text, desc: `${t('pooled')}: ${text}` }] },
        mark: { type: 'rule', color: '#333', strokeWidth: 1.5 },
        encoding: { y, description: { field: 'desc' }, tooltip: tooltip(['tip', t('pooled')]) } });
    }
    layer.push(
      { name: 'units', data: { values: points.filter((p) => !flagged(p)) }, mark: { type: 'point', filled: true, size: 60 },
        encoding: { x, y, color, description: { field: 'desc' }, tooltip: tip } },
      { name: 'flagged', data: { values: points.filter(flagged) }, mark: { type: 'point', filled: true, size: 110, shape: 'diamond' },
        encoding: { x, y, color, description: { field: 'desc' }, tooltip: tip } },
      { name: 'labels', data: { values: points }, mark: { type: 'text', align: 'left', dx: 8, fontSize: 10, color: '#333', aria: false },
        encoding: { x, y, text: { field: 'name' } } },
    );
    return { description: t('chartVergleich'), width: 'container', height: 360, layer };
  }

  function vergleichTable(figures, adjusted, display) {
    const sorted = [...figures].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.name.localeCompare(b.name));
    const heads = [t('rank'), t('unit'), adjusted ? t('ratio') : t('value'), t('interval'), ...(adjusted ? [t('adjustedValue')] : []), t('flag')];
    const body = sorted.map((f) => {
      if (!f.published) {
        const withheld = f.status === 'suppressed';
        const text = withheld ? `${statusText(f)}${f.reason ? `: ${f.reason}` : ''}` : statusText(f);
        const cls = withheld ? 'withheld' : 'unavailable';
        return h('tr', {}, h('td', {}, '–'), h('th', { scope: 'row' }, f.name),
          h('td', { class: cls, colSpan: heads.length - 2, title: f.reason ?? '' }, text));
      }
      const value = adjusted ? num(f.y, 3) : (display === 'change' ? t('percent', signed(f.y)) : percent(f.y));
      return h('tr', {}, h('td', { class: 'num' }, String(f.rank ?? '–')), h('th', { scope: 'row' }, f.name),
        h('td', { class: 'num' }, value), h('td', { class: 'num' }, range(f.lo, f.hi, adjusted ? 3 : 1)),
        adjusted ? h('td', { class: 'num' }, percent(f.value)) : null,
        h('td', { class: `flag flag-${f.flag ?? 'none'}` }, f.flag ? t(f.flag) : '–'));
    });
    $('#table-vergleich').replaceChildren(
      h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, body));
  }

  function dispersionSentence(d) {
    if (!d) return '';
    const limits = d.applied ? t('widened') : d.overdispersed ? t('notWidened') : t('notOverdispersed');
    return t('dispersion', num(d.phi, 2), d.units, num(d.tau2, 4)) + limits;
  }

  async function renderVergleich(current) {
    const ind = indicator();
    const answer = await getJSON(setQuestion('vergleich', indicatorUrl('compare', vergleichQuestion())));
    if (!current()) return;
    wirkung.answers.vergleich = answer;
    const adjusted = !!answer.adjustment;
    const figures = answer.units.map((u) => comparedFigure(u, adjusted));
    const reference = adjusted ? 1 : isPublished(answer.pooled) ? answer.pooled.value : null;
    vergleichTable(figures, adjusted, ind.display);
    $('#vergleich-dispersion').textContent = dispersionSentence(answer.dispersion);
    $('#vergleich-note').textContent = answer.adjustment?.note ?? '';
    await draw('vergleich', vergleichSpec(figures, reference, adjusted, ind.display), current);
  }

  // ---------------------------------------------------------------- Kontrast

  const kontrastUrl = () => indicatorUrl('contrast',
    { month: kmonth(), dimension: state.kdim, groups: state.kgroups.join(','), jobcenter_id: state.jobcenter });
  const kontrastDims = () => (indicator()?.dimensions ?? []).filter((d) => !UNIT_DIMS.includes(d));

  /** Groups a dimension offers: the values of a `values` answer by it, plus declared comparison groups. */
  async function kontrastGroupValues(dim) {
    const url = indicatorUrl('values', { from: kmonth(), to: kmonth(), by: dim, jobcenter_id: state.jobcenter });
    const values = [];
    for (const row of (await getJSON(url)).rows) {
      const v = row[dim];
      if (v != null && !values.includes(String(v))) values.push(String(v));
    }
    for (const other of data.catalogue) {
      const c = other.definition?.comparison;
      if (c && c.of === state.indicator && c.dimension === dim && !values.includes(c.value)) values.push(c.value);
    }
    return values;
  }

  function fillGroups(dim, values) {
    const chosen = state.kgroups.filter((g) => values.includes(g));
    state.kgroups = chosen.length ? chosen : values.slice(0, 2);
    const boxes = values.map((v, i) => h('label', { class: 'group' },
      h('input', { type: 'checkbox', value: v, id: `kontrast-group-${i}`, checked: state.kgroups.includes(v) }),
      ` ${valueLabel(dim, v)}`));
    $('#kontrast-groups').replaceChildren(h('legend', {}, t('groups')), ...boxes);
  }

  function contrastSentence(answer, dim) {
    const parts = [];
    const d = answer.difference;
    if (d) parts.push(t('difference', signed(d.value), num(d.ci_low), num(d.ci_high)));
    if (answer.test) {
      const df = answer.test.df != null ? `, df = ${answer.test.df}` : '';
      parts.push(`${pText(answer.test.p_value)} (${t(answer.test.name)}${df})`);
    }
    const lines = [parts.join(', ')];
    if (d && answer.groups.length === 2) {
      const [a, b] = answer.groups.map((g) => valueLabel(dim, g.group));
      const rr = answer.relative_risk != null ? `; ${t('relativeRisk', num(answer.relative_risk, 2))}` : '';
      lines.push(`${t('direction', a, b)}${rr}.`);
    }
    return lines.filter(Boolean);
  }

  function kontrastSpec(groups, dim) {
    const labels = groups.map((g) => valueLabel(dim, g.group));
    const rows = groups.map((g, i) => ({
      label: labels[i], value: g.value, lo: g.ci_low, hi: g.ci_high, tipValue: valueWithInterval(g, 'share'),
      tipFraction: `${count(g.numerator)} / ${count(g.denominator)}`, tipStatus: statusText(g),
      desc: `${labels[i]}: ${isPublished(g) ? valueWithInterval(g, 'share') : statusText(g)}`, published: isPublished(g),
    }));
    const y = { field: 'label', type: 'nominal', title: dimLabel(dim), sort: null, scale: { domain: labels } };
    const x = { field: 'value', type: 'quantitative', title: t('axisValue'), scale: { zero: false } };
    const shown = rows.filter((r) => r.published);
    const hidden = rows.filter((r) => !r.published);
    const layer = [
      { name: 'intervals', data: { values: shown }, mark: { type: 'rule', strokeWidth: 2, color: '#4c78a8' },
        encoding: { y, x: { ...x, field: 'lo' }, x2: { field: 'hi' } } },
      { name: 'groups', data: { values: shown }, mark: { type: 'point', filled: true, size: 90, color: '#4c78a8' },
        encoding: { y, x, description: { field: 'desc' },
          tooltip: tooltip(['label', dimLabel(dim)], ['tipValue', t('value')], ['tipFraction', t('fraction')]) } },
    ];
    if (hidden.length) {
      layer.push({ name: 'withheld', data: { values: hidden }, mark: { type: 'text', align: 'left', color: '#6b6b6b', fontStyle: 'italic' },
        encoding: { y, x: { value: 4 }, text: { field: 'tipStatus' }, description: { field: 'desc' } } });
    }
    return { description: t('chartKontrast'), width: 'container', height: 42 * Math.max(2, groups.length), layer };
  }

  async function renderKontrast(current) {
    const ind = indicator();
    $('#kontrast-result').replaceChildren();
    setQuestion('kontrast', null);
    if (ind.display !== 'share' || !kontrastDims().length) {
      $('#kontrast-groups').replaceChildren(h('legend', {}, t('groups')));
      throw new Notice(ind.display !== 'share' ? t('needShare') : t('noDimension'));
    }
    if (!kontrastDims().includes(state.kdim)) state.kdim = preferredDimension();
    $('#kontrast-dimension').value = state.kdim;
    if (state.kgroups.length >= 2) getJSON(kontrastUrl()).catch(() => {}); // in parallel with the groups
    const values = await kontrastGroupValues(state.kdim);
    if (!current()) return;
    fillGroups(state.kdim, values);
    writeHash();
    if (state.kgroups.length < 2) throw new Notice(t('chooseTwo'));
    const answer = await getJSON(setQuestion('kontrast', kontrastUrl()));
    if (!current()) return;
    wirkung.answers.kontrast = answer;
    const lines = contrastSentence(answer, state.kdim);
    if (answer.note) lines.push(answer.note);
    $('#kontrast-result').replaceChildren(...lines.map((line, i) => h('p', { class: i === 0 ? 'headline' : 'note' }, line)));
    await draw('kontrast', kontrastSpec(answer.groups, state.kdim), current);
  }

  function preferredDimension() {
    const dims = kontrastDims();
    return ['invitation_format', 'programme', 'service'].find((d) => dims.includes(d)) ?? dims[0];
  }

  // ----------------------------------------------------------------- Tabelle

  const tabelleDims = () => ['district_id', ...kontrastDims()];

  function tableCell(row, display) {
    if (!row) return h('td', { class: 'unavailable' }, '–');
    if (row.status === 'suppressed') return h('td', { class: 'withheld', title: statusText(row) }, '•');
    if (!isPublished(row)) return h('td', { class: 'unavailable', title: row.reason ?? statusText(row) }, '–');
    const value = display === 'change' ? t('percent', signed(row.value)) : percent(row.value);
    const ci = range(row.ci_low, row.ci_high);
    const title = `${ci ? `${t('interval')} ${ci} · ` : ''}${t('fraction')} ${count(row.numerator)} / ${count(row.denominator)}`;
    return h('td', { class: 'num', title }, value);
  }

  function tabelleTable(answer, by, display) {
    const months = monthsBetween(state.from, state.to);
    const cells = new Map();
    for (const row of answer.rows) {
      const key = String(row[by]);
      if (!cells.has(key)) cells.set(key, { label: valueLabel(by, row[by]), months: new Map() });
      cells.get(key).months.set(row.month, row);
    }
    const ind = indicator();
    const name = state.lang === 'en' ? ind.name_en : ind.name_de;
    $('#table-tabelle').replaceChildren(
      h('caption', {}, t('caption', `${ind.code} ${name} (%)`, dimLabel(by), jobcenter()?.name ?? state.jobcenter)),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, dimLabel(by)), months.map((m) => h('th', { scope: 'col' }, monthLabel(m))))),
      h('tbody', {}, [...cells.values()].map((c) => h('tr', {}, h('th', { scope: 'row' }, c.label),
        months.map((m) => tableCell(c.months.get(m), display))))),
    );
  }

  async function renderTabelle(current) {
    const q = { from: state.from, to: state.to, by: state.by, jobcenter_id: state.jobcenter };
    const answer = await getJSON(setQuestion('tabelle', indicatorUrl('values', q)));
    if (!current()) return;
    wirkung.answers.tabelle = answer;
    tabelleTable(answer, state.by, indicator().display);
  }

  // ----------------------------------------------------------------- Katalog

  function catalogueEntry(ind) {
    const fact = (term, value) => [h('dt', {}, term), h('dd', {}, value)];
    return h('article', { class: 'entry', id: `katalog-${ind.code}` },
      h('h2', {}, `${ind.code} – ${state.lang === 'en' ? ind.name_en : ind.name_de}`),
      h('p', {}, (state.lang === 'en' ? ind.description_en : null) ?? ind.description_de),
      h('dl', {},
        fact(t('kind'), term('kind', ind.kind)),
        fact(t('display'), term('display', ind.display)),
        fact(t('polarity'), term('polarity', ind.polarity)),
        fact(t('intervalMethod'), ind.interval),
        fact(t('legalBasis'), ind.legal_basis),
        fact(t('dimensions'), ind.dimensions.map(dimLabel).join(', '))),
      h('details', {}, h('summary', {}, t('definition')), h('pre', {}, h('code', {}, JSON.stringify(ind.definition, null, 2)))));
  }

  async function renderKatalog() {
    setQuestion('katalog', null);
    $('#katalog-list').replaceChildren(...data.catalogue.map(catalogueEntry));
  }

  // --------------------------------------------------------------- rendering

  const RENDER = { verlauf: renderVerlauf, vergleich: renderVergleich, kontrast: renderKontrast, tabelle: renderTabelle, katalog: renderKatalog };
  const questions = {};
  let renderSeq = 0;

  /** Keeps the view's current API question (for its downloads) and returns it. */
  function setQuestion(view, url) {
    questions[view] = url;
    document.querySelectorAll(`#view-${view} button.download`).forEach((b) => { b.disabled = !url; });
    return url;
  }

  function clearView(view) {
    dropChart(view);
    if (view === 'vergleich') $('#table-vergleich').replaceChildren();
    if (view === 'tabelle') $('#table-tabelle').replaceChildren();
    if (view === 'kontrast') $('#kontrast-result').replaceChildren();
    setQuestion(view, null);
  }

  /** Renders the active view; a newer render makes an older one stop at its next await. */
  async function renderActive() {
    const seq = ++renderSeq;
    const current = () => seq === renderSeq;
    setPageState('loading');
    clearMessage();
    showSection(state.view);
    writeHash();
    let outcome = 'ready';
    try {
      if (!indicator() || !jobcenter()) throw new Notice(t('noRows'));
      await RENDER[state.view](current);
    } catch (error) {
      if (!current()) return;
      if (error.status === 401) return reauthenticate();
      clearView(state.view);
      if (error instanceof Notice) showMessage(error.message, 'info');
      else showError(error);
      outcome = error instanceof Notice ? 'ready' : 'error';
    }
    if (!current()) return;
    wirkung.rendered += 1;
    setPageState(outcome);
    resolveReady();
  }

  // -------------------------------------------------------------- downloads

  const DOWNLOAD_FORMATS = {
    xlsx: () => (state.lang === 'en' ? 'format=xlsx&locale=en' : 'format=xlsx'),
    'csv-de': () => 'format=csv&locale=de',
  };

  function fileName(disposition) {
    const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition ?? '');
    if (star) return decodeURIComponent(star[1]);
    const plain = /filename="?([^";]+)"?/i.exec(disposition ?? '');
    return plain ? plain[1] : null;
  }

  function saveBlob(blob, name) {
    const href = URL.createObjectURL(blob);
    const link = h('a', { href, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(href), 1000);
  }

  async function download(button) {
    const url = questions[state.view];
    const format = DOWNLOAD_FORMATS[button.dataset.format];
    if (!url || !format) return;
    button.disabled = true;
    try {
      const response = await request(`${url}${url.includes('?') ? '&' : '?'}${format()}`, '*/*');
      const fallback = `wirkung-${state.indicator}-${state.view}.${button.dataset.format === 'xlsx' ? 'xlsx' : 'csv'}`;
      saveBlob(await response.blob(), fileName(response.headers.get('Content-Disposition')) ?? fallback);
    } catch (error) {
      if (error.status === 401) return reauthenticate();
      showError(error);
    } finally {
      button.disabled = !questions[state.view];
    }
  }

  // ------------------------------------------------------- token & loading

  let tokenWaiter = null;

  /** Shows the token form and resolves once a token is entered (kept in sessionStorage only). */
  function askToken(message) {
    setPageState('error');
    showMessage(message);
    const form = $('#token-form');
    form.hidden = false;
    $('#token').value = '';
    $('#token').focus();
    return new Promise((resolve) => { tokenWaiter = resolve; });
  }

  function onTokenSubmit(event) {
    event.preventDefault();
    const token = $('#token').value.trim();
    if (!token || !tokenWaiter) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $('#token-form').hidden = true;
    $('#logout').hidden = false;
    clearMessage();
    const resolve = tokenWaiter;
    tokenWaiter = null;
    resolve(token);
  }

  /** A 401 after a token was given: forget it, ask again, load anew with the new one. */
  async function reauthenticate(message = t('tokenRejected')) {
    renderSeq += 1;
    sessionStorage.removeItem(TOKEN_KEY);
    kept.clear();
    // Nothing the old token could see stays on the page while the form asks anew.
    ['verlauf', 'vergleich', 'kontrast', 'tabelle'].forEach(clearView);
    data.units = [];
    names.jobcenters.clear();
    names.districts.clear();
    $('#jobcenter').replaceChildren();
    $('#logout').hidden = true;
    await askToken(message);
    await loadAndRender();
  }

  const LOADING = 'urn:wirkung:problem:loading';
  const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

  /** Starts the active view's first question from the hash alone, alongside the catalogue. */
  function prefetchFromHash() {
    if (state.view !== 'verlauf' || !state.indicator || !state.jobcenter || !state.from || !state.to) return;
    if (state.units === 'comparison_type') return;
    getJSON(indicatorUrl('values', verlaufQuestion())).catch(() => {});
  }

  /** Health, catalogue and units in parallel; waits out a first load; asks for a token on 401. */
  async function loadBasics() {
    for (;;) {
      const health = request(apiUrl('health')).then((r) => r.json());
      const catalogue = getJSON(apiUrl('indicators'));
      const units = getJSON(apiUrl('units'));
      [health, catalogue, units].forEach((p) => p.catch(() => {}));
      prefetchFromHash();
      try {
        data.health = await health;
        showHealth();
        if (data.health.status === 'loading' || !data.health.data) throw new ApiError(503, { type: LOADING });
        const [c, u] = await Promise.all([catalogue, units]);
        return { catalogue: c.indicators, units: u.jobcenters };
      } catch (error) {
        if (error.status === 401) {
          const hadToken = !!sessionStorage.getItem(TOKEN_KEY);
          sessionStorage.removeItem(TOKEN_KEY);
          await askToken(hadToken ? t('tokenRejected') : t('tokenNeeded'));
        } else if (error.status === 503 && error.problem.type === LOADING) {
          showMessage(t('dataLoading'), 'info');
          kept.clear();
          await sleep(2000);
        } else {
          throw error;
        }
      }
    }
  }

  async function loadAndRender() {
    setPageState('loading');
    try {
      const { catalogue, units } = await loadBasics();
      data.catalogue = catalogue;
      data.byCode = new Map(catalogue.map((i) => [i.code, i]));
      data.units = units;
      names.jobcenters = new Map(units.map((j) => [j.jobcenter_id, j.name]));
      names.districts = new Map(units.flatMap((j) => j.districts.map((d) => [d.district_id, d.name])));
      $('#logout').hidden = !sessionStorage.getItem(TOKEN_KEY);
      clearMessage();
      normaliseState();
      fillIndicatorSelect();
      fillJobcenterSelect();
      syncControls();
      await renderActive();
    } catch (error) {
      showError(error);
      setPageState('error');
      resolveReady();
    }
  }

  // ---------------------------------------------------------------- events

  /** A control changed: take its value into the state, adjust what depends on it, render. */
  function onControl(event) {
    const el = event.target;
    const changes = {
      indicator: () => { state.indicator = el.value; state.kdim = null; state.kgroups = []; },
      jobcenter: () => { state.jobcenter = el.value; state.kgroups = []; },
      from: () => { state.from = el.value; if (state.to && state.from > state.to) state.to = state.from; },
      to: () => { state.to = el.value; if (state.from && state.from > state.to) state.from = state.to; },
      'verlauf-units': () => { state.units = el.value; },
      'vergleich-month': () => { state.vmonth = el.value || null; },
      'vergleich-across': () => { state.across = el.value; },
      'vergleich-adjust': () => { state.adjust = el.checked; },
      'kontrast-dimension': () => { state.kdim = el.value; state.kgroups = []; },
      'kontrast-month': () => { state.kmonth = el.value || null; },
      'tabelle-by': () => { state.by = el.value; },
    };
    if (el.closest('#kontrast-groups')) {
      state.kgroups = [...document.querySelectorAll('#kontrast-groups input:checked')].map((i) => i.value);
    } else if (changes[el.id]) {
      if (['from', 'to', 'vergleich-month', 'kontrast-month'].includes(el.id) && el.value && !MONTH.test(el.value)) return;
      changes[el.id]();
    } else {
      return;
    }
    normaliseState();
    syncControls();
    renderActive();
  }

  function onTab(event) {
    const tab = event.target.closest('button[data-view]');
    if (!tab) return;
    state.view = tab.dataset.view;
    renderActive();
  }

  /** Arrow keys move between the tabs (roving tabindex). */
  function onTabKey(event) {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const i = (VIEW_NAMES.indexOf(state.view) + step + VIEW_NAMES.length) % VIEW_NAMES.length;
    state.view = VIEW_NAMES[i];
    renderActive();
    $(`button[data-view="${state.view}"]`).focus();
  }

  function onLanguage() {
    state.lang = state.lang === 'de' ? 'en' : 'de';
    applyLanguage();
    syncControls();
    renderActive();
  }

  function onLogout() {
    reauthenticate(t('tokenNeeded'));
  }

  function onHashChange() {
    readHash();
    applyLanguage();
    if (!data.catalogue.length) return;
    normaliseState();
    syncControls();
    renderActive();
  }

  function bindEvents() {
    $('#controls').addEventListener('submit', (e) => e.preventDefault());
    document.addEventListener('change', onControl);
    $('.tabs').addEventListener('click', onTab);
    $('.tabs').addEventListener('keydown', onTabKey);
    $('#lang').addEventListener('click', onLanguage);
    $('#logout').addEventListener('click', onLogout);
    $('#token-form').addEventListener('submit', onTokenSubmit);
    document.querySelectorAll('button.download').forEach((b) => b.addEventListener('click', () => download(b)));
    window.addEventListener('hashchange', onHashChange);
  }

  function boot() {
    readHash();
    applyLanguage();
    showSection(state.view);
    bindEvents();
    if (typeof vegaEmbed !== 'function' || typeof vega === 'undefined') {
      showMessage(t('noCharts'));
      setPageState('error');
      resolveReady();
      return;
    }
    loadAndRender();
  }

  boot();
})();
