<?php

/**
 * congvu_eoffice: the button "Chuyển vào văn bản đến" in the message view, handing the
 * open official e-mail over to the clerks' intake of congvu's eOffice in one click.
 *
 * Design (server to server, no new secret): the browser asks Roundcube (an ordinary
 * Roundcube AJAX action, with Roundcube's request token); Roundcube fetches the raw
 * message from IMAP and POSTs it (Content-Type: message/rfc822) to congvu's
 * `congvu_eoffice_url` with the user's own SSO access token in `Authorization: Bearer`
 * (the token Roundcube already holds for IMAP XOAUTH2, obtained by the congvu_sso
 * sign-in). congvu accepts only a live token issued to the webmail client, of an active
 * account, and acts as that person: the domain's clerk check decides, the hand-over is
 * audited under their name, and a message is received once per agency. The answer's
 * message (Vietnamese) is shown to the user as it comes.
 *
 * Config keys (written by `congvu webmail up`): congvu_eoffice_url,
 * congvu_eoffice_max_bytes.
 */
class congvu_eoffice extends rcube_plugin
{
    public $task = 'mail';

    public function init()
    {
        $rc = rcmail::get_instance();
        $this->register_action('plugin.congvu-eoffice-handover', [$this, 'handover']);
        if ($rc->action === 'show' || $rc->action === 'preview' || $rc->action === '') {
            $this->add_texts('localization/', true);
            $this->include_script('congvu_eoffice.js');
            $this->add_button([
                'type' => 'link',
                'command' => 'plugin.congvu_eoffice',
                'class' => 'button congvu-eoffice disabled',
                'classact' => 'button congvu-eoffice',
                'innerclass' => 'inner',
                'label' => 'congvu_eoffice.handover',
                'title' => 'congvu_eoffice.handover_title',
            ], 'toolbar');
        }
    }

    /** The AJAX action: fetch the raw message, post it to congvu, show the answer. */
    public function handover()
    {
        $rc = rcmail::get_instance();
        $this->add_texts('localization/');
        $uid = rcube_utils::get_input_string('_uid', rcube_utils::INPUT_POST);
        $mbox = rcube_utils::get_input_string('_mbox', rcube_utils::INPUT_POST, true);
        $url = (string) $rc->config->get('congvu_eoffice_url');
        $max = (int) $rc->config->get('congvu_eoffice_max_bytes', 100 * 1024 * 1024);
        if ($uid === '' || $url === '') {
            return $this->reply('error', $this->gettext('failed'));
        }
        if ($mbox !== '') {
            $rc->storage->set_folder($mbox);
        }
        $raw = $rc->storage->get_raw_body($uid);
        if (!is_string($raw) || $raw === '') {
            return $this->reply('error', $this->gettext('failed'));
        }
        if (strlen($raw) > $max) {
            return $this->reply('error', $this->gettext('too_large'));
        }
        // "Bearer <access token>": what Roundcube signs in to IMAP with (XOAUTH2).
        $authorization = $rc->decrypt($_SESSION['password']);
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => "Authorization: $authorization\r\nContent-Type: message/rfc822\r\n"
                . "Accept: application/json\r\n",
            'content' => $raw,
            'timeout' => 30,
            'ignore_errors' => true,
        ]]);
        $body = @file_get_contents($url, false, $context);
        $data = $body === false ? null : json_decode($body, true);
        if (!is_array($data)) {
            rcube::write_log('errors', 'congvu_eoffice: no answer from ' . $url);
            return $this->reply('error', $this->gettext('unreachable'));
        }
        if (!empty($data['ok'])) {
            return $this->reply('confirmation', (string) $data['message']);
        }
        return $this->reply('error', isset($data['error']) ? (string) $data['error']
            : $this->gettext('failed'));
    }

    private function reply($type, $text)
    {
        $rc = rcmail::get_instance();
        $rc->output->show_message(rcube::Q($text), $type, null, false, 15);
        $rc->output->send();
    }
}
