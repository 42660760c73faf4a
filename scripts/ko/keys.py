"""Korean translations of the signing keys' messages: encryption, rotation, import, PKCS#11 (issue 21)."""

KO = {
    "the signing key {path} is encrypted and no passphrase was given: set the environment variable "
    "named by passphrase_env in [signing] (LONGWATCH_KEY_PASSPHRASE by default), set passphrase_file, "
    "or run the command on a terminal to be asked":
        "서명 키 {path}는 암호화되어 있는데 암호문이 주어지지 않았습니다: [signing]의 passphrase_env가 가리키는 "
        "환경 변수(기본값 LONGWATCH_KEY_PASSPHRASE)나 passphrase_file을 설정하거나, 터미널에서 명령을 실행하여 "
        "입력하십시오",
    "the passphrase for the signing key {path} is wrong; nothing was signed":
        "서명 키 {path}의 암호문이 틀렸습니다. 아무것도 서명하지 않았습니다",
    "the signing key would be stored unencrypted: give it a passphrase (LONGWATCH_KEY_PASSPHRASE, "
    "passphrase_file or the prompt), or say --unencrypted-key if you really mean it":
        "서명 키가 암호화되지 않은 채 저장됩니다: 암호문을 주거나(LONGWATCH_KEY_PASSPHRASE, passphrase_file 또는 "
        "입력 요청), 정말 그렇게 하려면 --unencrypted-key를 지정하십시오",
    "the signing key {path} is stored unencrypted, which this archive does not allow: replace it "
    "with `longwatch keys rotate`, or set encrypted = false in [signing]":
        "서명 키 {path}가 암호화되지 않은 채 저장되어 있으며 이 아카이브는 이를 허용하지 않습니다: "
        "`longwatch keys rotate`로 교체하거나 [signing]에 encrypted = false를 설정하십시오",
    "the key history {path} is unreadable: {detail}": "키 이력 {path}를 읽을 수 없습니다: {detail}",
    "the certificate {path} cannot sign packages: {detail}": "인증서 {path}로는 패키지에 서명할 수 없습니다: {detail}",
    "the archive's CA key {path} is not here: give it with --ca-key, or import a certificate "
    "issued by your own CA with `longwatch keys import`":
        "아카이브의 인증기관(CA) 키 {path}가 여기에 없습니다: --ca-key로 지정하거나, 소속 기관의 인증기관이 발급한 "
        "인증서를 `longwatch keys import`로 가져오십시오",
    "the PKCS#11 token could not be used: {detail}": "PKCS#11 토큰을 사용할 수 없습니다: {detail}",
    "no key {label!r} in the PKCS#11 token {token!r}": "PKCS#11 토큰 {token!r}에 키 {label!r}가 없습니다",
    "the signing key {path} is not the key the key history names ({fingerprint}); nothing was "
    "signed: change keys with `longwatch keys rotate` or `keys import`, or restore the key":
        "서명 키 {path}는 키 이력이 가리키는 키({fingerprint})가 아닙니다. 아무것도 서명하지 않았습니다: "
        "`longwatch keys rotate`나 `keys import`로 키를 바꾸거나 키를 복원하십시오",
    "package {package_id} is signed by {fingerprint}, which is not a trusted key of this archive "
    "({detail}); nothing was exported and nothing was re-signed":
        "패키지 {package_id}는 이 아카이브의 신뢰하는 키가 아닌 {fingerprint}로 서명되어 있습니다 ({detail}). "
        "아무것도 내보내지 않았고 다시 서명하지도 않았습니다",
    "Passphrase of the signing key": "서명 키의 암호문",
    "{fingerprint}  {since} to {until}  {origin}  {subject}": "{fingerprint}  {since} ~ {until}  {origin}  {subject}",
    "in use": "사용 중",
    "Signing with {fingerprint} from now on": "이제부터 {fingerprint}로 서명합니다",
    "Retired {fingerprint}: what it signed stays valid": "{fingerprint}를 퇴역시켰습니다: 이 키로 서명한 것은 계속 유효합니다",
    "--pkcs11-module needs --pkcs11-token and --pkcs11-key": "--pkcs11-module에는 --pkcs11-token과 --pkcs11-key가 필요합니다",
    "the web session key {path} holds {size} bytes where {needed} random bytes are needed; no session "
    "was signed with it: copy the key the other web machines use, or delete it to have a new one made "
    "(everyone signed in signs in again)":
        "웹 세션 키 {path}는 {size}바이트입니다. 무작위 {needed}바이트가 필요하므로 이 키로는 어떤 세션도 서명하지 "
        "않았습니다. 다른 웹 서버가 쓰는 키를 복사하거나, 키를 지우고 새로 만들게 하십시오(로그인한 사용자는 모두 "
        "다시 로그인합니다)",
}
