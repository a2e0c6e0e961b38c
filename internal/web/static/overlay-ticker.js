// The live overlay's purchase ticker ("张* 抢到了 汉中香小榨菜籽油 5L ×1"),
// fed by overlay.js from the liveEventFeed subscription. Names are user
// data: every text goes in through textContent, never as HTML.
//
// Plain ES5, like overlay.js.
(function () {
  'use strict';

  var SHOWN = 5; // the feed holds 20; a broadcast has room for a few

  function span(className, text) {
    var s = document.createElement('span');
    s.className = className;
    s.textContent = text;
    return s;
  }

  function line(p) {
    var li = document.createElement('li');
    li.className = 'tick';
    li.setAttribute('data-testid', 'tick');
    li.appendChild(span('tick-who', String(p.buyer || '*')));
    li.appendChild(document.createTextNode(' 抢到了 '));
    li.appendChild(span('tick-what', String(p.productName || '')));
    li.appendChild(document.createTextNode(' '));
    li.appendChild(span('tick-qty', '×' + String(p.quantity || 1)));
    return li;
  }

  // key tells one purchase from another across pushes (the feed has no IDs).
  function key(p) {
    return [p.at, p.buyer, p.productName, p.quantity].join('\u0000');
  }

  // render shows the latest purchases, newest first; a line new since the
  // last push gets the "fresh" class (a short highlight in the CSS).
  function render(list, purchases) {
    if (!list) {
      return;
    }
    var old = {};
    for (var c = list.firstChild; c; c = c.nextSibling) {
      old[c.getAttribute('data-key')] = true;
    }
    var hadAny = list.firstChild !== null;
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    var n = Math.min(SHOWN, (purchases || []).length);
    for (var i = 0; i < n; i++) {
      var li = line(purchases[i]);
      var k = key(purchases[i]);
      li.setAttribute('data-key', k);
      if (hadAny && !old[k]) {
        li.className += ' fresh';
      }
      list.appendChild(li);
    }
  }

  window.mallOverlayTicker = { render: render };
})();
