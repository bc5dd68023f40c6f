<?php
// Loads the congvu_sso plugin outside Roundcube with the least of its API stubbed, and
// checks one logout_token: prints "OK <sid>" or "ERR <reason>". Used by test_plugin.py.
// argv: plugin file, JSON config, logout token.
class rcube_plugin { public function add_hook($hook, $callback) {} }
class stub_config {
    public $values;
    public function __construct($values) { $this->values = $values; }
    public function get($name, $default = null) {
        return array_key_exists($name, $this->values) ? $this->values[$name] : $default;
    }
}
class rcmail {
    public static $instance;
    public $config;
    public static function get_instance() { return self::$instance; }
}
function slashify($path) { return rtrim($path, '/') . '/'; }
class rcube { public static function write_log($name, $line) {} }

require $argv[1];
rcmail::$instance = new rcmail();
rcmail::$instance->config = new stub_config(json_decode($argv[2], true));
$plugin = new congvu_sso();
$plugin->init();
try {
    $claims = $plugin->verify_logout_token($argv[3]);
    echo "OK " . (isset($claims['sid']) ? $claims['sid'] : '-') . "\n";
}
catch (Exception $e) {
    echo "ERR " . $e->getMessage() . "\n";
}
