(function () {
  "use strict";

  // Process frames: one figure per step; the range input, the buttons and the arrow keys choose which shows.
  var player = document.getElementById("process-player");
  if (player) {
    var frames = Array.prototype.slice.call(player.querySelectorAll("figure.frame"));
    var range = player.querySelector("input[type=range]");
    var prev = player.querySelector("button.prev");
    var next = player.querySelector("button.next");
    var status = player.querySelector(".status");
    var show = function (i) {
      i = Math.max(0, Math.min(frames.length - 1, i));
      frames.forEach(function (f, k) { f.hidden = k !== i; });
      range.value = String(i);
      prev.disabled = i === 0;
      next.disabled = i === frames.length - 1;
      status.textContent = "Step " + frames[i].dataset.step + " (" + (i + 1) + " of " + frames.length + "): " +
        frames[i].dataset.title;
    };
    range.addEventListener("input", function () { show(Number(range.value)); });
    prev.addEventListener("click", function () { show(Number(range.value) - 1); });
    next.addEventListener("click", function () { show(Number(range.value) + 1); });
    player.addEventListener("keydown", function (e) {
      if (e.target === range) { return; }
      if (e.key === "ArrowLeft") { show(Number(range.value) - 1); e.preventDefault(); }
      if (e.key === "ArrowRight") { show(Number(range.value) + 1); e.preventDefault(); }
    });
    if (frames.length) { show(0); }
  }

  // 3D view: the embedded glTF binary becomes a Blob URL (a file:// page may not fetch its neighbours).
  var data = document.getElementById("model-glb");
  var viewer = document.getElementById("model-viewer");
  if (data && viewer) {
    var note = document.getElementById("viewer-status");
    var fallback = document.getElementById("viewer-fallback");
    var mold = (viewer.dataset.mold || "").split(" ").filter(Boolean);
    var toggle = document.getElementById("mold-translucent");
    var setMold = function () {
      if (!viewer.model) { return; }
      var see = toggle ? toggle.checked : true;
      viewer.model.materials.forEach(function (m) {
        if (mold.indexOf(m.name) < 0) { return; }
        var c = m.pbrMetallicRoughness.baseColorFactor;
        m.setAlphaMode(see ? "BLEND" : "OPAQUE");
        m.pbrMetallicRoughness.setBaseColorFactor([c[0], c[1], c[2], see ? 0.22 : 1]);
      });
    };
    viewer.addEventListener("load", function () {
      viewer.dataset.loaded = "true";
      setMold();
      if (note) { note.textContent = "Model loaded: drag to orbit, scroll to zoom, right-drag to pan."; }
    });
    viewer.addEventListener("error", function () {
      viewer.dataset.loaded = "error";
      if (note) { note.textContent = "The 3D view could not show the model; the static render is below."; }
      if (fallback) { fallback.open = true; }
    });
    if (toggle) { toggle.addEventListener("change", setMold); }
    if (typeof customElements === "undefined" || !customElements.get("model-viewer")) {
      if (note) { note.textContent = "The 3D viewer script did not start; the static render is below."; }
      if (fallback) { fallback.open = true; }
    } else {
      var text = atob(data.textContent.replace(/\s+/g, ""));
      var bytes = new Uint8Array(text.length);
      for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
      viewer.src = URL.createObjectURL(new Blob([bytes], { type: "model/gltf-binary" }));
    }
  }
})();
