/**
 * The dashboard's script, inlined into the page. Plain ES2017 run by the browser: it polls the
 * JSON endpoints every two seconds, keeps five minutes of samples in memory, and draws with inline
 * SVG. Everything shown is built with DOM calls and `textContent`, never parsed from strings.
 */
export const DASHBOARD_SCRIPT = String.raw`
(function () {
  'use strict';
  var POLL_MS = 2000;
  var WINDOW_MS = 5 * 60 * 1000;
  var TOKEN_KEY = 'distcache-admin-token';
  var PALETTE = ['#2f6fde', '#1f9d55', '#d98b00', '#9b51e0', '#d64545', '#0e9aa7', '#7a8699', '#c2185b'];
  var SVG = 'http://www.w3.org/2000/svg';
  var samples = {};
  var token = readToken();
  var timer = null;
  var seeded = false;

  function readToken() {
    var match = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1));
    try {
      if (match) {
        sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
        history.replaceState(null, '', location.pathname + location.search);
      }
      return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (e) {
      return match ? decodeURIComponent(match[1]) : '';
    }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAll(node, attrs);
    append(node, children);
    return node;
  }
  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG, tag);
    setAll(node, attrs);
    append(node, children);
    return node;
  }
  function setAll(node, attrs) {
    for (var name in attrs || {}) {
      if (name === 'text') node.textContent = attrs[name];
      else if (name === 'className') node.setAttribute('class', attrs[name]);
      else node.setAttribute(name, attrs[name]);
    }
  }
  function append(node, children) {
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
  }
  function fill(id, children) {
    var target = document.getElementById(id);
    while (target.firstChild) target.removeChild(target.firstChild);
    append(target, children);
  }
  function text(id, value) { document.getElementById(id).textContent = value; }
  function badge(value) { return el('span', { className: 'badge ' + value, text: value }); }
  function percent(value, digits) { return value === null ? '-' : (value * 100).toFixed(digits === undefined ? 1 : digits) + '%'; }
  function bytes(value) {
    var units = ['B', 'KiB', 'MiB', 'GiB'];
    var i = 0;
    while (value >= 1024 && i < units.length - 1) { value /= 1024; i++; }
    return (i === 0 ? value : value.toFixed(1)) + ' ' + units[i];
  }
  function ago(at) {
    if (at === null) return '-';
    var seconds = Math.max(0, (Date.now() - at) / 1000);
    return seconds < 60 ? seconds.toFixed(1) + ' s ago' : Math.round(seconds / 60) + ' min ago';
  }
  function bar(share, color) {
    var inner = el('span');
    inner.style.width = Math.max(0, Math.min(1, share)) * 100 + '%';
    if (color) inner.style.background = color;
    return el('div', { className: 'bar' }, [inner]);
  }

  function request(path) {
    var headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    return fetch(path, { headers: headers, cache: 'no-store' }).then(function (response) {
      if (response.status === 401) { var error = new Error('unauthorized'); error.auth = true; throw error; }
      return response.json();
    });
  }

  function poll() {
    clearTimeout(timer);
    var calls = [request('peers'), request('keyspaces'), request('readyz')];
    // The server keeps the last minutes of counters: the charts start full, not empty.
    if (!seeded) calls.push(request('history').catch(function () { return null; }));
    Promise.all(calls).then(function (answers) {
      if (!seeded) { seeded = true; if (answers[3]) seed(answers[3]); }
      document.getElementById('banner').className = '';
      document.getElementById('auth').className = 'card';
      render(answers[0], answers[1], answers[2]);
      timer = setTimeout(poll, POLL_MS);
    }, function (error) {
      if (error && error.auth) {
        document.getElementById('auth').className = 'card show';
        return;
      }
      var banner = document.getElementById('banner');
      banner.textContent = 'Cannot reach the admin endpoints (' + (error && error.message ? error.message : 'error') + '); retrying.';
      banner.className = 'show';
      timer = setTimeout(poll, POLL_MS);
    });
  }

  function render(peers, spaces, ready) {
    text('cluster', peers.cluster);
    text('node', peers.node);
    fill('state', [badge(peers.state)]);
    fill('ready', [badge(ready.ready ? 'ok' : 'bad')]);
    document.getElementById('ready').title = ready.reasons.join('; ') || 'ready';
    text('updated', new Date().toLocaleTimeString());
    renderMembers(peers);
    renderRing(peers);
    record(spaces);
    renderBreakers(spaces.keySpaces);
    renderSpaces(spaces.keySpaces);
  }

  function colorOf(peers, id) {
    var index = peers.peers.map(function (peer) { return peer.id; }).indexOf(id);
    return PALETTE[index % PALETTE.length];
  }

  function renderMembers(peers) {
    text('member-count', peers.members + ' on the ring, quorum ' + peers.minMembers);
    var rows = peers.peers.map(function (peer) {
      return el('tr', {}, [
        el('td', {}, [el('b', { text: peer.nodeName || '?' })]),
        el('td', { className: 'mono', text: peer.id }),
        el('td', {}, [badge(peer.status)]),
        el('td', {}, [el('div', { className: 'share' }, [
          bar(peer.ownershipShare, colorOf(peers, peer.id)),
          el('span', { className: 'mono', text: percent(peer.ownershipShare) })
        ])]),
        el('td', { className: 'num', text: peer.status === 'self' ? '-' : ago(peer.lastSeenAt) })
      ]);
    });
    fill('members', [el('table', {}, [
      el('thead', {}, [el('tr', {}, ['Node', 'Address', 'State', 'Ring share', 'Last ping'].map(function (label, i) {
        return el('th', { className: i === 4 ? 'num' : '', text: label });
      }))]),
      el('tbody', {}, rows)
    ])]);
  }

  function renderRing(peers) {
    var owners = peers.peers.filter(function (peer) { return peer.ownershipShare > 0; });
    if (owners.length === 0) { fill('ring', [el('div', { className: 'empty', text: 'No ring yet.' })]); return; }
    var radius = 52, width = 22, angle = -Math.PI / 2;
    var arcs = owners.map(function (peer) {
      var sweep = peer.ownershipShare * Math.PI * 2;
      var color = colorOf(peers, peer.id);
      if (owners.length === 1) {
        return svg('circle', { cx: 70, cy: 70, r: radius, fill: 'none', stroke: color, 'stroke-width': width });
      }
      var x1 = 70 + radius * Math.cos(angle), y1 = 70 + radius * Math.sin(angle);
      angle += sweep;
      var x2 = 70 + radius * Math.cos(angle), y2 = 70 + radius * Math.sin(angle);
      var d = 'M ' + x1.toFixed(2) + ' ' + y1.toFixed(2) + ' A ' + radius + ' ' + radius + ' 0 ' +
        (sweep > Math.PI ? 1 : 0) + ' 1 ' + x2.toFixed(2) + ' ' + y2.toFixed(2);
      return svg('path', { d: d, fill: 'none', stroke: color, 'stroke-width': width });
    });
    var donut = svg('svg', { viewBox: '0 0 140 140', width: 140, height: 140, role: 'img' }, arcs.concat([
      svg('text', { x: 70, y: 68, 'text-anchor': 'middle', 'font-size': 22, 'font-weight': 650, fill: '#1c2430', text: String(owners.length) }),
      svg('text', { x: 70, y: 86, 'text-anchor': 'middle', 'font-size': 11, fill: '#66707e', text: owners.length === 1 ? 'owner' : 'owners' })
    ]));
    var legend = el('div', { className: 'legend' }, owners.map(function (peer) {
      var swatch = el('span', { className: 'swatch' });
      swatch.style.background = colorOf(peers, peer.id);
      return el('div', {}, [swatch, el('b', { text: (peer.nodeName || peer.id) + ' ' }), el('span', { className: 'mono', text: percent(peer.ownershipShare) })]);
    }));
    fill('ring', [el('div', { className: 'ring' }, [donut, legend])]);
  }

  function seed(past) {
    past.samples.forEach(function (sample) {
      for (var name in sample.keySpaces) {
        var c = sample.keySpaces[name];
        (samples[name] || (samples[name] = [])).push({ at: sample.at, gets: c.gets, hits: c.hits, loads: c.loads });
      }
    });
  }

  function record(spaces) {
    var seen = {};
    spaces.keySpaces.forEach(function (space) {
      seen[space.name] = true;
      var list = samples[space.name] || (samples[space.name] = []);
      var last = list[list.length - 1];
      // Counters restart when a keyspace is deleted and added again: start its history afresh.
      if (last && (space.stats.gets < last.gets || space.stats.loads < last.loads)) list.length = 0;
      // Rates over less than a second are mostly noise (a poll retried at once, a hidden tab woken).
      if (last && spaces.at - last.at < 1000) return;
      list.push({ at: spaces.at, gets: space.stats.gets, hits: space.stats.hits, loads: space.stats.loads });
      while (list.length > 2 && list[0].at < spaces.at - WINDOW_MS - POLL_MS) list.shift();
    });
    for (var name in samples) if (!seen[name]) delete samples[name];
  }

  function intervals(name) {
    var list = samples[name] || [];
    var out = [];
    for (var i = 1; i < list.length; i++) {
      var a = list[i - 1], b = list[i], gets = b.gets - a.gets, seconds = Math.max(0.001, (b.at - a.at) / 1000);
      out.push({ at: b.at, ratio: gets > 0 ? (b.hits - a.hits) / gets : null, loads: (b.loads - a.loads) / seconds, gets: gets / seconds });
    }
    return out;
  }

  function recent(name, count) {
    var list = samples[name] || [];
    if (list.length < 2) return { ratio: null, loads: 0, gets: 0 };
    var a = list[Math.max(0, list.length - 1 - count)], b = list[list.length - 1];
    var gets = b.gets - a.gets, seconds = Math.max(0.001, (b.at - a.at) / 1000);
    return { ratio: gets > 0 ? (b.hits - a.hits) / gets : null, loads: (b.loads - a.loads) / seconds, gets: gets / seconds };
  }

  function renderBreakers(spaces) {
    var guarded = spaces.filter(function (space) { return space.stats.breaker !== 'none'; });
    var open = guarded.filter(function (space) { return space.stats.breaker !== 'closed'; });
    text('breaker-count', guarded.length === 0 ? '' : open.length + ' open of ' + guarded.length);
    if (guarded.length === 0) { fill('breakers', [el('div', { className: 'empty', text: 'No keyspace has a circuit breaker.' })]); return; }
    fill('breakers', [el('div', { className: 'breakers' }, guarded.map(function (space) {
      return el('div', { className: 'breaker' }, [el('b', { text: space.name }), badge(space.stats.breaker),
        el('span', { className: 'mono', text: space.stats.circuitRejected + ' rejected' })]);
    }))]);
  }

  function chart(name) {
    var points = intervals(name);
    var W = 400, H = 130, top = 8, bottom = 18, plot = H - top - bottom;
    var now = points.length ? points[points.length - 1].at : Date.now();
    var x = function (at) { return ((at - (now - WINDOW_MS)) / WINDOW_MS) * W; };
    var peak = Math.max.apply(null, points.map(function (p) { return p.loads; }).concat([0]));
    var maxLoads = Math.max(1, peak);
    var parts = [];
    [0, 0.5, 1].forEach(function (level) {
      var y = top + plot * (1 - level);
      parts.push(svg('line', { x1: 0, x2: W, y1: y, y2: y, stroke: '#e2e6ec', 'stroke-width': 1 }));
      parts.push(svg('text', { x: 2, y: y - 2, 'font-size': 9, fill: '#8a94a3', text: (level * 100) + '%' }));
    });
    var barWidth = Math.max(1.5, (POLL_MS / WINDOW_MS) * W * 0.7);
    points.forEach(function (p) {
      if (p.loads <= 0) return;
      var h = (p.loads / maxLoads) * plot * 0.9;
      parts.push(svg('rect', { x: x(p.at) - barWidth, y: top + plot - h, width: barWidth, height: h, fill: '#2f6fde', opacity: 0.35 }));
    });
    var path = '';
    points.forEach(function (p) {
      if (p.ratio === null) return;
      path += (path ? ' L ' : 'M ') + x(p.at).toFixed(1) + ' ' + (top + plot * (1 - p.ratio)).toFixed(1);
    });
    if (path) parts.push(svg('path', { d: path, fill: 'none', stroke: '#1f9d55', 'stroke-width': 2, 'stroke-linejoin': 'round' }));
    parts.push(svg('text', { x: W - 2, y: top + 9, 'text-anchor': 'end', 'font-size': 9, fill: '#2f6fde', text: peak > 0 ? 'max ' + peak.toFixed(peak < 10 ? 1 : 0) + ' loads/s' : 'no loads' }));
    parts.push(svg('text', { x: 2, y: H - 4, 'font-size': 9, fill: '#8a94a3', text: '-5 min' }));
    parts.push(svg('text', { x: W - 2, y: H - 4, 'text-anchor': 'end', 'font-size': 9, fill: '#8a94a3', text: 'now' }));
    return svg('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'hit ratio and loads of ' + name }, parts);
  }

  function renderSpaces(spaces) {
    text('space-count', String(spaces.length));
    if (spaces.length === 0) { fill('spaces', [el('div', { className: 'empty', text: 'No keyspaces registered.' })]); return; }
    fill('spaces', spaces.map(function (space) {
      var s = space.stats, now = recent(space.name, 5);
      var figure = function (value, label, id) {
        return el('div', { className: 'figure' }, [el('b', { text: value, 'data-field': id }), el('span', { text: label })]);
      };
      return el('div', { className: 'card space', 'data-keyspace': space.name }, [
        el('h3', {}, [el('span', { text: space.name }), s.breaker === 'none' ? null : badge(s.breaker)]),
        el('div', { className: 'figures' }, [
          figure(percent(now.ratio), 'hit ratio, last 10 s', 'recent-hit-ratio'),
          figure(percent(s.hitRatio), 'hit ratio, total', 'hit-ratio'),
          figure(now.gets.toFixed(now.gets < 10 ? 1 : 0), 'gets/s', 'gets-rate'),
          figure(now.loads.toFixed(now.loads < 10 ? 1 : 0), 'loads/s', 'loads-rate')
        ]),
        el('div', { className: 'keys' }, [
          el('span', {}, [keyLine('#1f9d55'), document.createTextNode('hit ratio')]),
          el('span', {}, [keyLine('#2f6fde'), document.createTextNode('loads/s')])
        ]),
        chart(space.name),
        el('div', { className: 'memory' }, [
          el('span', { text: 'memory' }),
          bar(s.maxBytes > 0 ? s.bytes / s.maxBytes : 0),
          el('span', { className: 'mono', text: bytes(s.bytes) + ' of ' + bytes(s.maxBytes) + ' (' + percent(s.maxBytes > 0 ? s.bytes / s.maxBytes : 0) + ')', title: 'memory counted against maxBytes: values, keys, hot copies and bookkeeping' })
        ]),
        el('div', { className: 'foot' }, [
          el('span', { text: s.items + ' entries (' + s.hotItems + ' hot copies), ' + s.evictions + ' evicted' }),
          el('span', { text: s.loads + ' loads, ' + s.loadErrors + ' failed, ' + s.staleHits + ' stale served, ' + s.dedupedLoads + ' deduplicated' })
        ])
      ]);
    }));
  }

  function keyLine(color) { var line = el('i'); line.style.background = color; return line; }

  document.getElementById('auth-form').addEventListener('submit', function (event) {
    event.preventDefault();
    token = document.getElementById('token').value.trim();
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* private mode: keep it in memory */ }
    poll();
  });
  poll();
})();
`;
