// `node -r ./bin/preload-threadpool.cjs <script>`: the threadpool size pixveil runs with (bin/threadpool.cjs),
// for the bench and other scripts that are ES modules themselves and so start too late to set it.
'use strict';
require('./threadpool.cjs').applyThreadpoolSize();
