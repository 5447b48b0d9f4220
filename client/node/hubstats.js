#!/usr/bin/env node
// hubstats Node.js client: prints the three headline answers of a hubstats server
// (modality share, size distribution, top-50 organisations), or a trend (--trend).
//
//   node hubstats.js --target HOST:PORT [--json] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
//   node hubstats.js --target HOST:PORT --trend day|week|month [--by DIMENSION] [--json] ...
//
// The .proto files are loaded at runtime from ../../proto (or $HUBSTATS_PROTO_DIR). int64 values
// are read as decimal strings and held as BigInt, so downloads are exact at any size; --json
// prints them as plain JSON integers and doubles with round-trip precision.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROTO_DIR = process.env.HUBSTATS_PROTO_DIR || path.resolve(__dirname, '..', '..', 'proto');
const MODALITY_PREFIX = 'MODALITY_';
const DEFAULT_TOP_N = 50;
const DEFAULT_TIMEOUT_SECONDS = 30;
// Keepalive as docs/OPERATIONS.md ("Keepalive") agrees it with the server: ping after 30 s
// without data, give up after 10 s more; the server accepts pings every 10 s or slower.
const CHANNEL_OPTIONS = {
  'grpc.keepalive_time_ms': 30000,
  'grpc.keepalive_timeout_ms': 10000,
  'grpc.keepalive_permit_without_calls': 0,
};

// ---------------------------------------------------------------------------------------------
// API loading
// ---------------------------------------------------------------------------------------------

let api = null;

/** Loads hubstats.proto (services) and error_details.proto (rich error decoding) once. */
function loadApi() {
  if (api) return api;
  const definition = protoLoader.loadSync('hubstats/v1/hubstats.proto', {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String, // int64 -> decimal string; converted to BigInt below, never to a double.
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const v1 = grpc.loadPackageDefinition(definition).hubstats.v1;

  const root = new protobuf.Root();
  root.resolvePath = (origin, target) =>
    target.startsWith('google/protobuf/') ? target : path.resolve(PROTO_DIR, target);
  root.loadSync('hubstats/v1/error_details.proto', { keepCase: true });
  // Enum names by their short form, read from the proto: 'month' -> 'GRANULARITY_MONTH'.
  const names = (enumName, prefix, hyphens) => Object.fromEntries(
    definition[`hubstats.v1.${enumName}`].type.value
      .filter((v) => v.number !== 0)
      .map((v) => {
        const short = v.name.slice(prefix.length).toLowerCase();
        return [hyphens ? short.replace(/_/g, '-') : short, v.name];
      }));
  api = {
    QueryService: v1.QueryService,
    IngestService: v1.IngestService,
    Status: root.lookupType('hubstats.v1.Status'),
    BadRequest: root.lookupType('hubstats.v1.BadRequest'),
    granularities: names('Granularity', 'GRANULARITY_', false),
    trendDimensions: names('TrendDimension', 'TREND_DIMENSION_', true),
    modalities: names('Modality', MODALITY_PREFIX, false),
  };
  return api;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

class HubstatsError extends Error {
  /**
   * @param {string} message human-readable, one or more lines
   * @param {object} [info] {code, codeName, violations: [{field, description}]}
   */
  constructor(message, info = {}) {
    super(message);
    this.name = 'HubstatsError';
    this.code = info.code;
    this.codeName = info.codeName;
    this.violations = info.violations || [];
  }
}

const STATUS_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

/** Field violations from the grpc-status-details-bin trailer (hubstats.v1.Status + BadRequest). */
function fieldViolations(err) {
  const { Status, BadRequest } = loadApi();
  const values = err && err.metadata ? err.metadata.get('grpc-status-details-bin') : [];
  const violations = [];
  for (const raw of values) {
    let status;
    try {
      status = Status.decode(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw), 'base64'));
    } catch (e) {
      continue;
    }
    for (const any of status.details || []) {
      if (!String(any.type_url || '').endsWith('/google.rpc.BadRequest')) continue;
      try {
        const badRequest = BadRequest.decode(any.value);
        for (const v of badRequest.field_violations || []) {
          violations.push({ field: v.field, description: v.description });
        }
      } catch (e) {
        // An undecodable detail is ignored; the status message is still reported.
      }
    }
  }
  return violations;
}

/** Turns a grpc-js ServiceError into a HubstatsError with a clear message. */
function describeError(err, target, method) {
  const code = err && typeof err.code === 'number' ? err.code : undefined;
  const codeName = code === undefined ? 'UNKNOWN' : STATUS_NAMES[code] || String(code);
  // grpc-js appends an empty "Resolution note: " to connection errors; drop it.
  const details = String((err && (err.details || err.message)) || 'no details')
    .replace(/\.?\s*Resolution note:\s*$/, '');
  if (code === grpc.status.INVALID_ARGUMENT) {
    const violations = fieldViolations(err);
    const lines = violations.length
      ? violations.map((v) => `  ${v.field}: ${v.description}`)
      : [`  ${details}`];
    return new HubstatsError(`invalid argument in ${method}:\n${lines.join('\n')}`,
      { code, codeName, violations });
  }
  if (code === grpc.status.UNAVAILABLE) {
    return new HubstatsError(
      `cannot get an answer from the hubstats server at ${target} (${codeName}: ${details})`,
      { code, codeName });
  }
  if (code === grpc.status.DEADLINE_EXCEEDED) {
    return new HubstatsError(
      `hubstats server at ${target} did not answer ${method} in time (${codeName}: ${details})`,
      { code, codeName });
  }
  if (code === grpc.status.UNIMPLEMENTED) {
    return new HubstatsError(`${method} failed: ${codeName}: ${details} ` +
      `(is ${target} a hubstats server?)`, { code, codeName });
  }
  return new HubstatsError(`${method} failed: ${codeName}: ${details}`, { code, codeName });
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

const toBigInt = (v) => (v === undefined || v === null || v === '' ? 0n : BigInt(v));
const shortModality = (name) =>
  (name.startsWith(MODALITY_PREFIX) ? name.slice(MODALITY_PREFIX.length) : name).toLowerCase();

/** Parses "YYYY-MM-DD" into a hubstats.v1.Date; semantic checks are left to the server. */
function parseDate(text, option) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text));
  if (!m) throw new UsageError(`${option} must be a date YYYY-MM-DD, got ${JSON.stringify(text)}`);
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

/** A DateRange from optional "YYYY-MM-DD" strings; null (all time) when both are absent. */
function makeRange(from, to) {
  if (from == null && to == null) return null;
  const range = {};
  if (from != null) range.start = parseDate(from, '--from');
  if (to != null) range.end = parseDate(to, '--to');
  return range;
}

const pad = (n, width) => String(n).padStart(width, '0');
/** A hubstats.v1.Date as "YYYY-MM-DD". */
const dateText = (d) => `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}`;

/** `value`, one of the short names of `choices` ({name: ENUM_NAME}), as its enum name. */
function choice(value, choices, what) {
  if (typeof value === 'string' && Object.hasOwn(choices, value)) return choices[value];
  throw new UsageError(`${what}: expected one of ${Object.keys(choices).join(', ')}, ` +
    `got ${JSON.stringify(value)}`);
}

const PARAMETER_SCALES = { '': 0, K: 3, M: 6, B: 9, G: 9, T: 12 };

/**
 * A parameter count as a decimal string for an int64 field: a whole number, a BigInt, or a
 * string such as "200M", "1.5B", "500000000" (K, M, B/G, T suffixes; exact, no rounding).
 */
function parameterCount(value, what) {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  const m = /^\s*(\d+)(?:\.(\d+))?\s*([KMBGT]?)\s*$/i.exec(String(value));
  const zeros = m ? PARAMETER_SCALES[m[3].toUpperCase()] : 0;
  const fraction = m ? (m[2] || '').replace(/0+$/, '') : '';
  if (!m || fraction.length > zeros) {
    throw new UsageError(`${what}: ${JSON.stringify(value)} is not a parameter count ` +
      '(e.g. 200M, 1.5B, 1T, 500000000)');
  }
  return (BigInt(m[1] + fraction) * 10n ** BigInt(zeros - fraction.length)).toString();
}

const MODALITY_ALIASES = { cv: 'computer_vision', rl: 'reinforcement_learning' };

/** A modality filter: a short name ('audio'), an alias ('cv', 'rl'), any case, '-' or ' ' for
 * '_'; null for none. */
function modalityFilter(value, what = 'modality') {
  if (value == null) return 'MODALITY_UNSPECIFIED';
  const key = String(value).trim().toLowerCase().replace(/[-\s]+/g, '_')
    .replace(/^modality_/, '');
  const { modalities } = loadApi();
  if (!Object.hasOwn(modalities, MODALITY_ALIASES[key] || key)) {
    throw new UsageError(`${what}: expected one of ${Object.keys(modalities).join(', ')} ` +
      `(aliases: ${Object.keys(MODALITY_ALIASES).join(', ')}), got ${JSON.stringify(value)}`);
  }
  return modalities[MODALITY_ALIASES[key] || key];
}

// ---------------------------------------------------------------------------------------------
// Security: TLS and the bearer token
// ---------------------------------------------------------------------------------------------

function readSetting(file, what) {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(`${what}: cannot read ${file}: ${e.code || e.message}`);
  }
}

/**
 * TLS material and the token from `options` ({tls, caFile, certFile, keyFile, serverName,
 * token, tokenFile}), each falling back to the variable the other clients read:
 * HUBSTATS_TLS, HUBSTATS_CA_FILE, HUBSTATS_CERT_FILE, HUBSTATS_KEY_FILE,
 * HUBSTATS_TLS_SERVER_NAME, HUBSTATS_TOKEN_FILE, HUBSTATS_TOKEN.
 */
function channelSecurity(options = {}, env = process.env) {
  const caFile = options.caFile || env.HUBSTATS_CA_FILE;
  const certFile = options.certFile || env.HUBSTATS_CERT_FILE;
  const keyFile = options.keyFile || env.HUBSTATS_KEY_FILE;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new UsageError('a client certificate needs its key: give both --cert-file and '
      + '--key-file (HUBSTATS_CERT_FILE, HUBSTATS_KEY_FILE)');
  }
  const tlsSetting = options.tls !== undefined ? options.tls
    : ['1', 'true', 'yes', 'on'].includes(String(env.HUBSTATS_TLS || '').toLowerCase());
  let token = options.token;
  if (token === undefined) {
    const tokenFile = options.tokenFile || env.HUBSTATS_TOKEN_FILE;
    if (tokenFile) {
      token = readSetting(tokenFile, 'token file').toString('utf8').trim();
      if (!token) throw new UsageError(`token file: ${tokenFile} is empty`);
    } else {
      token = (env.HUBSTATS_TOKEN || '').trim();
    }
  }
  return {
    tls: Boolean(tlsSetting || caFile || certFile),
    ca: caFile ? readSetting(caFile, 'CA file') : null,
    cert: certFile ? readSetting(certFile, 'certificate file') : null,
    key: keyFile ? readSetting(keyFile, 'key file') : null,
    serverName: options.serverName || env.HUBSTATS_TLS_SERVER_NAME || null,
    token: token || null,
  };
}

class Client {
  /**
   * @param {string} target host:port of a hubstats server
   * @param {object} [options] {timeoutSeconds, tls, caFile, certFile, keyFile, serverName,
   *   token, tokenFile} (see channelSecurity; the environment fills in what is left out)
   */
  constructor(target, options = {}) {
    const { QueryService } = loadApi();
    this.target = target;
    this.timeoutSeconds = options.timeoutSeconds || DEFAULT_TIMEOUT_SECONDS;
    const security = channelSecurity(options);
    const credentials = security.tls
      ? grpc.credentials.createSsl(security.ca, security.key, security.cert)
      : grpc.credentials.createInsecure();
    const channelOptions = security.serverName
      ? { ...CHANNEL_OPTIONS, 'grpc.ssl_target_name_override': security.serverName }
      : CHANNEL_OPTIONS;
    this.query = new QueryService(target, credentials, channelOptions);
    this.token = security.token;
  }

  close() {
    this.query.close();
  }

  _call(method, request) {
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + this.timeoutSeconds * 1000);
      // The token as call metadata: grpc-js refuses call credentials on plaintext channels.
      const metadata = new grpc.Metadata();
      if (this.token) metadata.set('authorization', `Bearer ${this.token}`);
      this.query[method](request, metadata, { deadline }, (err, response) => {
        if (err) reject(describeError(err, this.target, method));
        else resolve(response);
      });
    });
  }

  /** {total_downloads, rows: [{modality, downloads, share_pct}]} */
  async modalityShare(range = null) {
    const r = await this._call('GetModalityShare', range ? { range } : {});
    return {
      total_downloads: toBigInt(r.total_downloads),
      rows: r.rows.map((row) => ({
        modality: shortModality(row.modality),
        downloads: toBigInt(row.downloads),
        share_pct: row.share_pct,
      })),
    };
  }

  /** Size classes with the server's default boundaries (200M, 500M, 1B) unless given. */
  async sizeDistribution(range = null, boundaries = []) {
    const request = {
      boundaries: boundaries.map((b, i) => parameterCount(b, `boundaries[${i}]`)),
    };
    if (range) request.range = range;
    const r = await this._call('GetSizeDistribution', request);
    return {
      total_downloads: toBigInt(r.total_downloads),
      known_downloads: toBigInt(r.known_downloads),
      unknown_downloads: toBigInt(r.unknown_downloads),
      unknown_share_pct: r.unknown_share_pct,
      boundaries: r.boundaries.map(toBigInt),
      rows: r.rows.map((row) => ({
        label: row.label,
        lower: toBigInt(row.lower),
        // proto3 `optional`: present only when set (oneofs: true gives `_upper: "upper"`).
        upper: row._upper === 'upper' ? toBigInt(row.upper) : null,
        downloads: toBigInt(row.downloads),
        share_pct: row.share_pct,
        share_of_known_pct: row.share_of_known_pct,
        cumulative_pct: row.cumulative_pct,
      })),
    };
  }

  /** Top n models or authors ("model" | "author"). */
  async topN(range = null, n = DEFAULT_TOP_N, by = 'model') {
    const request = { n, by: by === 'author' ? 'RANK_BY_AUTHOR' : 'RANK_BY_MODEL' };
    if (range) request.range = range;
    const r = await this._call('GetTopN', request);
    return {
      total_downloads: toBigInt(r.total_downloads),
      top_downloads: toBigInt(r.top_downloads),
      top_share_pct: r.top_share_pct,
      rows: r.rows.map((row) => ({
        rank: row.rank,
        id: row.id,
        downloads: toBigInt(row.downloads),
        share_pct: row.share_pct,
        cumulative_pct: row.cumulative_pct,
      })),
    };
  }

  /**
   * Downloads and shares per day, ISO week or month of `range`, split by a dimension, in one
   * call (GetTrend). options: {granularity: 'day' | 'week' | 'month' (default), dimension:
   * 'modality' (default) | 'size' | 'task' | 'architecture' | 'library' | 'top-models' |
   * 'top-authors', boundaries (size only), n (the two concentrations; default 50), modality (a
   * filter)}. Resolves to {granularity, dimension, keys, boundaries, periods: [{start,
   * first_day, last_day, total_downloads, values: [{key, downloads, share_pct}]}], as_of:
   * {version, time}}: days as 'YYYY-MM-DD', int64 as BigInt, one value per key in every period.
   */
  async trend(range = null, options = {}) {
    const { granularities, trendDimensions } = loadApi();
    const dimension = options.dimension || 'modality';
    const request = {
      granularity: choice(options.granularity || 'month', granularities, 'granularity'),
      dimension: choice(dimension, trendDimensions, 'dimension'),
      boundaries: (options.boundaries || [])
        .map((b, i) => parameterCount(b, `boundaries[${i}]`)),
      n: dimension.startsWith('top-') ? (options.n || DEFAULT_TOP_N) : 0,
      modality: modalityFilter(options.modality),
    };
    if (range) request.range = range;
    const r = await this._call('GetTrend', request);
    const shortName = (choices, name) =>
      Object.keys(choices).find((key) => choices[key] === name) || name;
    const time = r.as_of && r.as_of.time;
    return {
      granularity: shortName(granularities, r.granularity),
      dimension: shortName(trendDimensions, r.dimension),
      keys: r.keys,
      boundaries: r.boundaries.map(toBigInt),
      periods: r.periods.map((p) => ({
        start: dateText(p.start),
        first_day: dateText(p.first_day),
        last_day: dateText(p.last_day),
        total_downloads: toBigInt(p.total_downloads),
        values: p.values.map((v) => ({
          key: v.key, downloads: toBigInt(v.downloads), share_pct: v.share_pct,
        })),
      })),
      as_of: {
        version: r.as_of ? r.as_of.version : '',
        time: time ? new Date(Number(time.seconds) * 1000 + Math.floor(time.nanos / 1e6))
          .toISOString() : null,
      },
    };
  }

  /** The three headline answers, fetched concurrently. */
  async headline(range = null) {
    const settled = await Promise.allSettled([
      this.modalityShare(range),
      this.sizeDistribution(range),
      this.topN(range, DEFAULT_TOP_N, 'author'),
    ]);
    // Report the first failure in request order, so the message does not depend on timing.
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [modality, sizes, topAuthors] = settled.map((s) => s.value);
    return { modality, sizes, top_authors: topAuthors };
  }
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/**
 * JSON with BigInt printed as exact integers and numbers with round-trip precision
 * (JavaScript's shortest representation that parses back to the same double).
 */
function toJson(value) {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    default:
      break;
  }
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  const parts = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`);
  return `{${parts.join(',')}}`;
}

/**
 * The JSON document of --json: exactly the documented fields. Each part has the fields, in the
 * same order, of the C++ CLI's --json answer to the same query (`hubstats modality`, `sizes`,
 * `top --by author --n 50`).
 */
function headlineDocument(h) {
  return {
    modality: {
      total_downloads: h.modality.total_downloads,
      rows: h.modality.rows.map(({ modality, downloads, share_pct }) =>
        ({ modality, downloads, share_pct })),
    },
    sizes: {
      total_downloads: h.sizes.total_downloads,
      known_downloads: h.sizes.known_downloads,
      unknown_downloads: h.sizes.unknown_downloads,
      unknown_share_pct: h.sizes.unknown_share_pct,
      rows: h.sizes.rows.map((r) => ({
        label: r.label,
        lower: r.lower,
        upper: r.upper,
        downloads: r.downloads,
        share_pct: r.share_pct,
        share_of_known_pct: r.share_of_known_pct,
        cumulative_pct: r.cumulative_pct,
      })),
    },
    top_authors: {
      total_downloads: h.top_authors.total_downloads,
      top_downloads: h.top_authors.top_downloads,
      top_share_pct: h.top_authors.top_share_pct,
      rows: h.top_authors.rows.map((r) => ({
        rank: r.rank,
        id: r.id,
        downloads: r.downloads,
        share_pct: r.share_pct,
        cumulative_pct: r.cumulative_pct,
      })),
    },
  };
}

/**
 * The JSON document of --trend --json: exactly the fields, in the same order, of the C++ CLI's
 * `hubstats trend --json`.
 */
function trendDocument(t) {
  return {
    granularity: t.granularity,
    dimension: t.dimension,
    keys: t.keys,
    periods: t.periods.map((p) => ({
      start: p.start,
      first_day: p.first_day,
      last_day: p.last_day,
      total_downloads: p.total_downloads,
      values: p.values.map(({ key, downloads, share_pct }) => ({ key, downloads, share_pct })),
    })),
  };
}

const grouped = (n) => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const pct = (x) => `${x.toFixed(2)}%`;

function table(headers, rows, alignRight) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells) => '  ' + cells
    .map((c, i) => (alignRight[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
    .join('  ').trimEnd();
  return [fmt(headers), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

function describeRange(from, to) {
  if (from == null && to == null) return 'all time';
  return `${from == null ? 'first day' : from} to ${to == null ? 'last day' : to}`;
}

function humanReport(h, from, to) {
  const out = [];
  const period = describeRange(from, to);
  out.push(`Modality share (${period}): ${grouped(h.modality.total_downloads)} downloads`);
  out.push(table(['modality', 'downloads', 'share'],
    h.modality.rows.map((r) => [r.modality, grouped(r.downloads), pct(r.share_pct)]),
    [false, true, true]));
  out.push('');
  const s = h.sizes;
  out.push(`Size distribution (${period}): ${grouped(s.total_downloads)} downloads, ` +
    `${grouped(s.known_downloads)} of known size, ${grouped(s.unknown_downloads)} unknown ` +
    `(${pct(s.unknown_share_pct)})`);
  out.push(table(['class', 'downloads', 'share', 'of known', 'cumulative'],
    s.rows.map((r) => [r.label, grouped(r.downloads), pct(r.share_pct),
      pct(r.share_of_known_pct), pct(r.cumulative_pct)]),
    [false, true, true, true, true]));
  out.push('');
  const t = h.top_authors;
  out.push(`Top ${DEFAULT_TOP_N} organisations (${period}): the top ${t.rows.length} take ` +
    `${pct(t.top_share_pct)} of ${grouped(t.total_downloads)} downloads`);
  out.push(table(['rank', 'organisation', 'downloads', 'share', 'cumulative'],
    t.rows.map((r) => [String(r.rank), r.id, grouped(r.downloads), pct(r.share_pct),
      pct(r.cumulative_pct)]),
    [true, false, true, true, true]));
  return out.join('\n') + '\n';
}

/** A period as a reader names it: "2024-09" (month), "2024-W36" (ISO week), "2024-09-02". */
function periodLabel(start, granularity) {
  if (granularity === 'month') return start.slice(0, 7);
  if (granularity !== 'week') return start;
  // An ISO week belongs to the year of its Thursday and counts from that year's first.
  const thursday = new Date(`${start}T00:00:00Z`);
  thursday.setUTCDate(thursday.getUTCDate() + 3);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * 86400000)) + 1;
  return `${year}-W${pad(week, 2)}`;
}

const TREND_SHOWN_KEYS = 8;

/** One row per period: its downloads and each key's share; keys past the 8th as "others". */
function humanTrend(t, from, to) {
  const total = t.periods.reduce((sum, p) => sum + p.total_downloads, 0n);
  if (total === 0n) return `No downloads (${describeRange(from, to)}).\n`;
  const shown = t.keys.slice(0, TREND_SHOWN_KEYS);
  const others = t.keys.length > shown.length;
  const headers = [t.granularity === 'week' ? 'ISO week' : t.granularity, 'downloads', ...shown];
  if (others) headers.push('others');
  const rows = t.periods.map((p) => {
    const row = [periodLabel(p.start, t.granularity), grouped(p.total_downloads),
      ...p.values.slice(0, shown.length).map((v) => pct(v.share_pct))];
    if (others) {
      const rest = p.values.slice(shown.length).reduce((sum, v) => sum + v.downloads, 0n);
      row.push(pct(p.total_downloads ? Number(rest * 1000000n / p.total_downloads) / 10000 : 0));
    }
    return row;
  });
  const first = t.periods[0].first_day;
  const last = t.periods[t.periods.length - 1].last_day;
  return `Download share by ${t.dimension} per ${t.granularity} (${first}..${last})\n\n` +
    table(headers, rows, headers.map((_, i) => i > 0)) + '\n';
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

class UsageError extends Error {}

const USAGE = `usage: node hubstats.js --target HOST:PORT [--json] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                        [--timeout SECONDS]
       node hubstats.js --target HOST:PORT --trend day|week|month [--by DIMENSION] [--n N]
                        [--boundaries 200M,500M,1B] [--modality NAME] [--json] [--from ...]
                        [--to ...]

Prints modality share, size distribution (200M/500M/1B) and the top ${DEFAULT_TOP_N} organisations;
with --trend, the downloads and shares per day, ISO week or month instead.
  --target   server address (default: $HUBSTATS_TARGET)
  --json     one JSON object instead of tables
  --from     first day of the range (UTC, inclusive); default: first day with data
  --to       last day of the range (UTC, inclusive); default: last day with data
  --timeout  deadline per call in seconds (default ${DEFAULT_TIMEOUT_SECONDS})
  --trend    the periods of a trend: day, week (ISO) or month
  --by       what a trend splits downloads by: modality (default), size, task, architecture,
             library, top-models, top-authors
  --n        top-models, top-authors: the top n of each period (default ${DEFAULT_TOP_N})
  --boundaries  size: class boundaries (default 200M,500M,1B)
  --modality    only this modality's downloads (e.g. audio, cv)
  --tls              TLS, verifying the server with the system's CAs [$HUBSTATS_TLS]
  --ca-file F        TLS, verifying the server with the CAs in F [$HUBSTATS_CA_FILE]
  --cert-file F      client certificate for mutual TLS [$HUBSTATS_CERT_FILE] ...
  --key-file F       ... and its key [$HUBSTATS_KEY_FILE]
  --tls-server-name  name the server's certificate must hold [$HUBSTATS_TLS_SERVER_NAME]
  --token-file F     bearer token in F [$HUBSTATS_TOKEN_FILE; else the token in $HUBSTATS_TOKEN]
`;

function parseArgs(argv) {
  const opts = { target: process.env.HUBSTATS_TARGET || null, json: false, from: null, to: null,
    timeout: DEFAULT_TIMEOUT_SECONDS, help: false, security: {} };
  const valued = { '--target': 'target', '--from': 'from', '--to': 'to', '--timeout': 'timeout',
    '--trend': 'trend', '--by': 'by', '--n': 'n', '--boundaries': 'boundaries',
    '--modality': 'modality' };
  const securityValued = { '--ca-file': 'caFile', '--cert-file': 'certFile',
    '--key-file': 'keyFile', '--tls-server-name': 'serverName', '--token-file': 'tokenFile' };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--json' && value === undefined) opts.json = true;
    else if (arg === '--tls' && value === undefined) opts.security.tls = true;
    else if ((arg === '--help' || arg === '-h') && value === undefined) opts.help = true;
    else if (arg in valued || arg in securityValued) {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
        value = argv[++i];
      }
      if (arg in valued) opts[valued[arg]] = value;
      else opts.security[securityValued[arg]] = value;
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(argv[i])}`);
    }
  }
  if (opts.help) return opts;
  if (!opts.target) throw new UsageError('--target HOST:PORT is required');
  const timeout = Number(opts.timeout);
  if (!(timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
  opts.timeout = timeout;
  opts.range = makeRange(opts.from, opts.to);
  const trendOnly = ['by', 'n', 'boundaries', 'modality'].filter((k) => opts[k] !== undefined);
  if (opts.trend === undefined) {
    if (trendOnly.length) throw new UsageError(`--${trendOnly[0]} needs --trend`);
    return opts;
  }
  const { granularities, trendDimensions } = loadApi();
  choice(opts.trend, granularities, '--trend');
  choice(opts.by || 'modality', trendDimensions, '--by');
  if (opts.n !== undefined && !/^[1-9][0-9]*$/.test(opts.n)) {
    throw new UsageError(`--n must be a positive integer, got ${JSON.stringify(opts.n)}`);
  }
  opts.trendOptions = {
    granularity: opts.trend,
    dimension: opts.by || 'modality',
    n: opts.n === undefined ? undefined : Number(opts.n),
    boundaries: opts.boundaries ? opts.boundaries.split(',') : [],
    modality: opts.modality,
  };
  opts.trendOptions.boundaries.forEach((b, i) => parameterCount(b, `--boundaries item ${i + 1}`));
  modalityFilter(opts.modality, '--modality');
  return opts;
}

async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let client;
  try {
    client = new Client(opts.target, { timeoutSeconds: opts.timeout, ...opts.security });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
  try {
    if (opts.trendOptions) {
      const t = await client.trend(opts.range, opts.trendOptions);
      process.stdout.write(opts.json ? toJson(trendDocument(t)) + '\n'
        : humanTrend(t, opts.from, opts.to));
      return 0;
    }
    const h = await client.headline(opts.range);
    process.stdout.write(opts.json ? toJson(headlineDocument(h)) + '\n'
      : humanReport(h, opts.from, opts.to));
    return 0;
  } catch (e) {
    if (!(e instanceof HubstatsError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  } finally {
    client.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e) => {
      process.stderr.write(`error: ${e && e.stack ? e.stack : e}\n`);
      process.exitCode = 1;
    });
}

module.exports = {
  Client, HubstatsError, channelSecurity, loadApi, makeRange, toJson, headlineDocument,
  trendDocument, main, CHANNEL_OPTIONS,
};
