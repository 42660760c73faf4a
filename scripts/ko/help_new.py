"""Korean --help texts of the merged commands: keys, witness, custody anchors, db copy, login, case sharing."""

KO = {
    # custody anchors, verify-export and verify options
    "A ledger checkpoint kept outside the archive (`custody checkpoints -o`, or a .note beside its .p7s); "
    "the export must extend it (repeatable).":
        "아카이브 밖에 보관한 원장 체크포인트(`custody checkpoints -o` 또는 .p7s 옆의 .note). 내보내기는 이 "
        "체크포인트에서 이어져야 합니다(여러 번 지정 가능).",
    "A witness's verifier key whose cosignatures must hold (also [custody] witnesses); repeatable.":
        "부서명이 유효해야 하는 증인의 검증 키([custody] witnesses로도 지정). 여러 번 지정 가능.",
    "Also write the newest checkpoint as a signed note with its signature and time-stamp here.":
        "최신 체크포인트를 서명과 타임스탬프를 담은 서명된 노트(signed note)로 이 폴더에도 씁니다.",
    "Check an evidence export (folder or ZIP) in one go; needs no archive.\n\nExit status 0: VERIFIED "
    "(consistent, and its signer matches --cert,\n--fingerprint or --checkpoint); 15: UNANCHORED (consistent, "
    "signer not\nconfirmed); 13: NOT VERIFIED.":
        "증거 내보내기(폴더 또는 ZIP)를 한 번에 확인합니다. 아카이브가 없어도 됩니다.\n\n종료 상태 0: 검증됨"
        "(VERIFIED, 일관되고 서명자가 --cert,\n--fingerprint 또는 --checkpoint와 일치), 15: 외부 기준 없음"
        "(UNANCHORED, 일관되나\n서명자가 확인되지 않음), 13: 검증 실패(NOT VERIFIED).",
    "The archive's signing certificates (repeatable; a PEM file may hold several).":
        "아카이브의 서명 인증서(여러 번 지정 가능. PEM 파일 하나에 여러 개가 들어 있을 수 있습니다).",
    "The recipient's time zone for the report (IANA name); default the archive's.":
        "보고서에 쓸 받는 사람의 시간대(IANA 이름). 기본값: 아카이브의 시간대.",
    "The signer's SHA-256 fingerprint as the archive publishes it (repeatable).":
        "아카이브가 공개한 서명자의 SHA-256 지문(여러 번 지정 가능).",
    "Trust only signatures by this certificate, got from the archive outside the export (repeatable).":
        "내보내기와 별도로 아카이브에서 받은 이 인증서의 서명만 신뢰합니다(여러 번 지정 가능).",
    "Trusted signer certificates (repeatable; default: every key the archive has signed with).":
        "신뢰하는 서명자 인증서(여러 번 지정 가능. 기본값: 아카이브가 서명에 사용한 모든 키).",
    "Trusted signer certificates, PEM files of one or several (repeatable; default: every key the archive "
    "has signed with, each for its period).":
        "신뢰하는 서명자 인증서. 인증서가 하나 또는 여러 개 담긴 PEM 파일(여러 번 지정 가능. 기본값: 아카이브가 "
        "서명에 사용한 모든 키, 각 키는 사용 기간에 한하여).",
    "What others check the archive against: its signing certificates and newest signed checkpoints.\n\n"
    "The same document the web server publishes at /.well-known/longwatch/anchors.json. Send it to\n"
    "whoever should be able to hold the archive to its past (a court, a police agency, a second archive);\n"
    "they check a later ledger with `custody verify --checkpoints FILE`.":
        "다른 기관이 아카이브를 확인하는 기준: 아카이브의 서명 인증서와 서명된 최신 체크포인트.\n\n"
        "웹 서버가 /.well-known/longwatch/anchors.json에 공개하는 것과 같은 문서입니다. 아카이브가 과거의\n"
        "기록을 바꾸지 않았는지 확인할 수 있어야 하는 곳(법원, 경찰 기관, 다른 아카이브)에 보내십시오.\n"
        "받은 곳은 나중의 원장을 `custody verify --checkpoints FILE`로 확인합니다.",
    "Write the anchors (JSON) to this file, for a channel outside the archive.":
        "외부 기준(anchors, JSON)을 이 파일에 씁니다. 아카이브 밖의 경로로 전하기 위한 것입니다.",
    "Keep a witness's cosignature of one of our checkpoints, after checking it against the ledger.":
        "이 아카이브의 체크포인트에 대한 증인의 부서명을 원장과 대조해 확인한 뒤 보관합니다.",
    # witness
    "Co-sign the newest checkpoint in CHECKPOINTS (the anchors file, or `custody checkpoints -o`).":
        "CHECKPOINTS(외부 기준(anchors) 파일 또는 `custody checkpoints -o`의 파일)에 있는 최신 체크포인트에 "
        "부서명합니다.",
    "Consistency proof from the last co-signed checkpoint (`longwatch custody consistency`).":
        "마지막으로 부서명한 체크포인트로부터의 일관성 증명(`longwatch custody consistency`).",
    "Make a witness key called NAME (e.g. court.example.kr).":
        "NAME이라는 이름의 증인 키를 만듭니다(예: court.example.kr).",
    "The archive's signing certificate(s) you trust (from its published anchors).":
        "신뢰하는 아카이브의 서명 인증서(아카이브가 공개한 외부 기준(anchors)에서 얻은 것).",
    "The witness name the key was made with.": "키를 만들 때 쓴 증인 이름.",
    "The witness's verifier key.": "증인의 검증 키.",
    "This witness's memory of what it co-signed (created on first use).":
        "이 증인이 부서명한 내용의 기록(처음 사용할 때 만듭니다).",
    "Where to write NAME.key (secret) and NAME.vkey (publish it).":
        "NAME.key(비밀)와 NAME.vkey(공개할 것)를 쓸 위치.",
    "Write the line here.": "부서명 줄을 이 파일에도 씁니다.",
    # keys
    "Create an archive in DIRECTORY: configuration, catalog, storage, its CA and an encrypted signing key.\n\n"
    "The key's passphrase comes from LONGWATCH_KEY_PASSPHRASE (or a prompt on a terminal).":
        "DIRECTORY에 아카이브를 만듭니다: 설정, 카탈로그, 저장소, 아카이브의 인증기관(CA), 암호화된 서명 키.\n\n"
        "키의 암호문은 LONGWATCH_KEY_PASSPHRASE에서 가져옵니다(터미널에서는 입력을 요청합니다).",
    "Every key the archive has signed with, and the period it signed in (the first is the oldest).":
        "아카이브가 서명에 사용한 모든 키와 각 키로 서명한 기간(첫 번째가 가장 오래된 키).",
    "Its end-entity certificate from your CA, then the CA's certificates (PEM).":
        "소속 기관의 인증기관(CA)이 발급한 키의 최종 개체 인증서와 그 뒤에 인증기관의 인증서(PEM).",
    "Make the key in the token (EC P-256, not extractable).": "토큰 안에서 키를 만듭니다(EC P-256, 추출 불가).",
    "Print the key history as JSON.": "키 이력을 JSON으로 출력합니다.",
    "Retire the key in use and sign with a new one, certified by the archive's CA.\n\n"
    "Everything the old key signed stays valid: it is trusted for the period it was in use.":
        "사용 중인 키를 퇴역시키고 아카이브의 인증기관(CA)이 인증한 새 키로 서명합니다.\n\n"
        "이전 키로 서명한 것은 모두 계속 유효합니다: 이전 키는 사용된 기간에 대해 신뢰됩니다.",
    "Sign from now on with a key and certificate your own CA issued (the key in use is retired).":
        "이제부터 소속 기관의 인증기관(CA)이 발급한 키와 인증서로 서명합니다(사용 중인 키는 퇴역합니다).",
    "Sign with a key in a PKCS#11 token from now on: the module (e.g. libsofthsm2.so).":
        "이제부터 PKCS#11 토큰의 키로 서명합니다: 모듈(예: libsofthsm2.so).",
    "Store the signing key without a passphrase (not recommended; see docs/keys.md).":
        "서명 키를 암호문 없이 저장합니다(권장하지 않습니다. docs/keys.md 참조).",
    "The archive's CA key, if it is kept elsewhere (default: keys/ca-key.pem).":
        "아카이브의 인증기관(CA) 키가 다른 곳에 있을 때 그 위치(기본값: keys/ca-key.pem).",
    "The archive's signing keys: every key it has signed with, rotation, import, a key in an HSM.":
        "아카이브의 서명 키: 서명에 사용한 모든 키, 교체, 가져오기, HSM 안의 키.",
    "The end-entity certificate of --key (then its issuers), e.g. from the city's CA.":
        "--key의 최종 개체 인증서(그 뒤에 발급자 인증서). 예: 시의 인증기관(CA)이 발급한 것.",
    "The environment variable that holds the token's PIN.": "토큰의 PIN을 담은 환경 변수.",
    "The key's label in the token.": "토큰 안의 키 레이블.",
    "The new private key (PEM; encrypted with the archive's passphrase, or not at all).":
        "새 개인 키(PEM. 아카이브의 암호문으로 암호화했거나 암호화하지 않은 것).",
    "The token's label.": "토큰의 레이블.",
    # db copy
    "An empty database, e.g. postgresql+psycopg://longwatch:PASSWORD@db.internal/longwatch.":
        "빈 데이터베이스. 예: postgresql+psycopg://longwatch:PASSWORD@db.internal/longwatch.",
    "Copy the catalog (with the custody ledger's index) into an empty database, PostgreSQL when scaling out,\n"
    "and verify the copy.":
        "카탈로그(관리 연속성 원장의 색인 포함)를 빈 데이터베이스(규모를 키울 때는 PostgreSQL)로 복사하고\n"
        "사본을 검증합니다.",
    "Once the copy is verified, make the archive use it (longwatch.toml).":
        "사본이 검증되면 아카이브가 그 사본을 쓰도록 합니다(longwatch.toml).",
    # accounts: login, logout, whoami, users
    "Create an account (the first account of an archive: an administrator, mapped to this OS user).":
        "계정을 만듭니다(아카이브의 첫 계정은 관리자이며 이 운영체제 사용자에 연결됩니다).",
    "Let commands run by OS_USER (a service: worker, connector, cron) act as account USERNAME.\n\n"
    "Recorded in the catalog and in the custody ledger. Without USERNAME, lists the mappings.":
        "OS_USER가 실행하는 명령(서비스: 작업 프로세스, 커넥터, cron)이 USERNAME 계정으로 작업하게 합니다.\n\n"
        "카탈로그와 관리 연속성 원장에 기록합니다. USERNAME이 없으면 연결 목록을 보여 줍니다.",
    "Remove the mapping of OS_USER instead.": "대신 OS_USER의 연결을 없앱니다.",
    "Set a new password (signs the user out everywhere); your own, or anyone's as an administrator.":
        "새 비밀번호를 설정합니다(모든 곳에서 로그아웃됩니다). 자신의 비밀번호를, 관리자는 누구의 비밀번호든 "
        "설정할 수 있습니다.",
    "Sign in to this archive as USERNAME; later commands of this OS user act for that account.\n\n"
    "A token valid for 30 days is kept in a file only this OS user can read (mode 0600).":
        "USERNAME으로 이 아카이브에 로그인합니다. 이후 이 운영체제 사용자의 명령은 그 계정으로 작업합니다.\n\n"
        "30일 동안 유효한 토큰을 이 운영체제 사용자만 읽을 수 있는 파일(모드 0600)에 보관합니다.",
    "Sign out of this archive: the stored token is revoked and its file removed.":
        "이 아카이브에서 로그아웃합니다: 저장된 토큰을 취소하고 그 파일을 지웁니다.",
    "The account this OS user's commands act for, and how it was found (keys: username, role, os_user, by).":
        "이 운영체제 사용자의 명령이 대신하여 작업하는 계정과 그 계정을 찾은 방법(키: username, role, os_user, by).",
    # cases, events, dispose
    "Share a case with an account: an investigator sees only the cases shared with them, and their footage.":
        "사건을 계정에 공유합니다: 수사 담당자는 자신에게 공유된 사건과 그 영상만 봅니다.",
    "Stop sharing a case with an account.": "사건을 계정에 더 이상 공유하지 않습니다.",
    "Mark an event confirmed, false positive or unsure; the decision is a ledger event naming the reviewer\n"
    "(the signed-in account).":
        "이벤트를 확인, 오탐, 불확실로 표시합니다. 결정은 검토자(로그인한 계정)를 밝힌\n원장 이벤트로 남습니다.",
    "Delete one package outside the schedule: a second records manager must approve it first.\n\n"
    "The first call proposes the deletion (a one-package disposition) and stops\nwith H018; once another "
    "records manager has approved it (``dispose\napprove``), ``dispose execute`` or this command again "
    "deletes the package\nand signs a destruction certificate. A legal hold refuses it at once.":
        "보존기간 책정표와 별도로 패키지 하나를 삭제합니다: 먼저 다른 기록관리 담당자가 승인해야 합니다.\n\n"
        "처음 실행하면 삭제를 제안하고(패키지 하나의 처분) H018로\n멈춥니다. 다른 기록관리 담당자가 승인하면"
        "(``dispose\napprove``) ``dispose execute``나 이 명령을 다시 실행하여 패키지를 삭제하고\n파기 확인서에 "
        "서명합니다. 법적 보존 조치가 있으면 즉시 거부합니다.",
}
