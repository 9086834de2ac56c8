/**
 * Whole words and subwords of the tiny test model's WordPiece vocabulary, chosen from the
 * vocabulary of agent ↔ user trajectories (requests, tools, code) so synthetic texts tokenize
 * mostly into whole words; anything else falls back to single-character pieces.
 */
export const TINY_MODEL_WORDS: readonly string[] = [
  // function words
  'the', 'a', 'an', 'and', 'or', 'not', 'no', 'to', 'of', 'in', 'on', 'at', 'for', 'from', 'with',
  'by', 'into', 'about', 'after', 'before', 'is', 'are', 'was', 'be', 'it', 'this', 'that', 'my',
  'our', 'your', 'me', 'we', 'you', 'i', 'can', 'please', 'why', 'how', 'what', 'when', 'where',
  'all', 'new', 'old', 'again', 'now', 'then', 'if', 'else', 'but', 'so', 'do', 'does', 'did',
  // request verbs
  'fix', 'add', 'remove', 'delete', 'update', 'rename', 'refactor', 'write', 'read', 'run', 'test',
  'build', 'deploy', 'install', 'upgrade', 'debug', 'explain', 'review', 'check', 'find', 'search',
  'open', 'close', 'create', 'make', 'show', 'list', 'move', 'copy', 'merge', 'revert', 'commit',
  'push', 'pull', 'release', 'migrate', 'optimize', 'document', 'summarize', 'translate', 'book',
  'send', 'schedule', 'cancel', 'order', 'buy', 'plan', 'compare', 'convert', 'generate', 'format',
  'lint', 'parse', 'handle', 'retry', 'log', 'profile', 'measure', 'benchmark', 'configure',
  // software nouns
  'bug', 'error', 'exception', 'crash', 'failure', 'warning', 'issue', 'code', 'function', 'method',
  'class', 'module', 'package', 'library', 'dependency', 'file', 'folder', 'directory', 'path',
  'repo', 'repository', 'branch', 'tag', 'pr', 'diff', 'patch', 'test', 'tests', 'suite', 'unit',
  'integration', 'ci', 'pipeline', 'job', 'build', 'server', 'client', 'api', 'endpoint', 'request',
  'response', 'query', 'database', 'table', 'schema', 'index', 'column', 'row', 'migration', 'cache',
  'queue', 'topic', 'stream', 'event', 'message', 'kafka', 'docker', 'container', 'kubernetes',
  'cluster', 'node', 'config', 'setting', 'variable', 'type', 'string', 'number', 'list', 'map',
  'array', 'object', 'null', 'value', 'key', 'parser', 'lexer', 'compiler', 'runtime', 'memory',
  'leak', 'timeout', 'latency', 'performance', 'loop', 'thread', 'lock', 'async', 'await', 'promise',
  'callback', 'import', 'export', 'return', 'true', 'false', 'user', 'login', 'auth', 'token',
  'password', 'permission', 'page', 'button', 'form', 'style', 'css', 'html', 'readme', 'docs',
  'comment', 'version', 'python', 'typescript', 'javascript', 'rust', 'go', 'java', 'sql', 'bash',
  'shell', 'script', 'command', 'tool', 'agent', 'model', 'data', 'json', 'yaml', 'csv', 'report',
  'chart', 'email', 'calendar', 'meeting', 'invoice', 'payment', 'customer', 'ticket',
  // travel and everyday requests, so "unrelated" texts have their own tokens
  'flight', 'hotel', 'train', 'trip', 'ticket', 'weather', 'restaurant', 'dinner', 'lunch', 'recipe',
  'paris', 'london', 'tokyo', 'berlin', 'tomorrow', 'today', 'tonight', 'week', 'weekend', 'morning',
  'evening', 'friday', 'monday', 'cheap', 'fast', 'slow', 'small', 'large', 'first', 'last', 'next',
  'failing', 'broken', 'flaky', 'missing', 'wrong', 'unused', 'slowly',
  // subwords
  '##s', '##es', '##ed', '##ing', '##er', '##ers', '##ly', '##ion', '##tion', '##ment', '##able',
  '##ize', '##ise', '##al', '##ity', '##ness', '##ful', '##less', '##y', '##ies', '##js', '##ts',
  '##py', '##fig', '##test', '##tests', '##ql',
];
