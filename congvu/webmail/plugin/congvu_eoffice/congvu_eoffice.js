/* congvu_eoffice: the "Chuyển vào văn bản đến" button (see congvu_eoffice.php). */
window.rcmail && rcmail.addEventListener('init', function () {
  rcmail.register_command('plugin.congvu_eoffice', function () {
    var uid = rcmail.env.uid || rcmail.get_single_uid();
    if (!uid) {
      return;
    }
    var lock = rcmail.set_busy(true, 'loading');
    rcmail.http_post('plugin.congvu-eoffice-handover',
      {_uid: uid, _mbox: rcmail.env.mailbox}, lock);
  }, !!rcmail.env.uid);
  if (rcmail.message_list) {
    rcmail.message_list.addEventListener('select', function (list) {
      rcmail.enable_command('plugin.congvu_eoffice', list.get_single_selection() != null);
    });
  }
});
