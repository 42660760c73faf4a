"""Korean for the messages of issue 24 (one vocabulary; numbers, dates and plurals): docs/glossary.md.

A message with a context (``pgettext``) is keyed ``(context, msgid)``; see scripts/update_catalogs.py.
"""

KO = {
    ("analytics grouping", "by"): "집계 단위",
    ("custody event actor", "by"): "수행자",
    ("calendar", "month"): "월",
    # PREMIS event types and outcomes (Library of Congress vocabulary), as the package page shows them
    "accession": "인수",
    "capture": "획득",
    "creation": "생성",
    "deaccession": "인수 해제",
    "deletion": "삭제",
    "digital signature generation": "전자서명 생성",
    "digital signature validation": "전자서명 검증",
    "dissemination": "배포",
    "extraction": "추출",
    "fixity check": "고정성 검사",
    "format identification": "포맷 식별",
    "information package creation": "정보 패키지 생성",
    "ingestion": "입수",
    "message digest calculation": "해시값 계산",
    "metadata extraction": "메타데이터 추출",
    "metadata modification": "메타데이터 수정",
    "policy assignment": "정책 지정",
    "recovery": "복구",
    "redaction": "비식별 처리",
    "replication": "복제",
    "transfer": "인계",
    "validation": "유효성 검증",
    "success": "성공",
    "failure": "실패",
}

#: `--help` of every command (longwatch/cli_help.py, extracted by scripts/extract_help.py)
HELP = {
    # click's own words
    'Usage:': '사용법:',
    'Options': '옵션',
    'Commands': '명령',
    'Arguments': '인자',
    'Show this message and exit.': '이 도움말을 보여 주고 끝냅니다.',
    'Show the version and exit.': '버전을 보여 주고 끝냅니다.',
    # longwatch's commands and options
    'A camera over --from .. --to (second precision).': '--from부터 --to까지의 카메라 영상(초 단위).',
    'A case of the catalog (when the archive has cases).': '카탈로그의 사건(아카이브에 사건이 있을 때).',
    'A saved search: camera, zone, text, from, to (repeatable; all must match).':
        '저장된 검색: camera, zone, text, from, to (여러 번 지정 가능, 모두 맞아야 합니다).',
    "A schedule file (default: the archive's active schedule).": '보존기간 책정표 파일(기본값: 아카이브의 현행 책정표).',
    'API tokens for machines (Authorization: Bearer ...).': '기계용 API 토큰(Authorization: Bearer ...).',
    'Active legal holds (with --all, released ones too).': '유효한 법적 보존 조치(--all이면 해제된 것도).',
    'Add a zone such as Jung-gu/Market/Gate-1 (missing parents are added too).':
        'Jung-gu/Market/Gate-1 같은 구역을 추가합니다(없는 상위 구역도 함께 추가합니다).',
    'Add or update a camera.': '카메라를 추가하거나 갱신합니다.',
    'Also an exact stream-copy cut of the range, as a derived package.':
        '범위를 스트림 복사로 정확히 잘라 낸 파생 패키지도 만듭니다.',
    'Also count matches by camera, zone and day.': '일치한 결과를 카메라, 구역, 날짜별로도 셉니다.',
    'Also events a reviewer marked false positive (left out by default).':
        '검토자가 오탐으로 표시한 이벤트도 포함합니다(기본값은 제외).',
    'Also mask whole persons.': '사람 전체도 마스킹합니다.',
    "Also the event's span as a video clip.": '이벤트 구간을 영상 클립으로도 냅니다.',
    'Also watermarked access copies for the recipient under data/access/ (originals untouched).':
        '받는 사람용 워터마크 열람 사본도 data/access/에 만듭니다(원본은 그대로 둡니다).',
    'Also write the bag as this ZIP file (streamed).': '백을 이 ZIP 파일로도 씁니다(스트리밍).',
    'Apply every pending catalog migration.': '대기 중인 카탈로그 마이그레이션을 모두 적용합니다.',
    'Approve a proposal: a records manager other than the proposer.':
        '처분 제안을 승인합니다: 제안자가 아닌 기록관리 담당자가 승인합니다.',
    'Archive bytes already in the archive again.': '이미 아카이브에 있는 내용도 다시 보존합니다.',
    'Archive directory (else LONGWATCH_ARCHIVE, else the nearest longwatch.toml).':
        '아카이브 디렉터리(없으면 LONGWATCH_ARCHIVE, 그다음 가장 가까운 longwatch.toml).',
    'Archive files (a directory: every file in it) as signed packages.\n\nMetadata may also come from a JSON sidecar next to each file\n(clip.mp4.json or clip.json); options given here win.':
        '파일을(디렉터리이면 그 안의 모든 파일을) 서명된 패키지로 보존합니다.\n\n메타데이터는 각 파일 옆의 JSON 부속 파일\n(clip.mp4.json 또는 clip.json)에서도 읽습니다. 여기서 준 옵션이 우선합니다.',
    'Archive name (default: the directory name).': '아카이브 이름(기본값: 디렉터리 이름).',
    'Archive what CONNECTOR offers until stopped (SIGTERM or Ctrl-C stop cleanly).':
        'CONNECTOR가 내놓는 영상을 멈출 때까지 보존합니다(SIGTERM이나 Ctrl-C로 깔끔하게 멈춥니다).',
    'Assign new packages, find what is due, group it by class and propose it for disposition.':
        '새 패키지에 기록 분류를 지정하고, 기한이 된 것을 찾아 분류별로 묶어 처분을 제안합니다.',
    'Attach packages to a case.': '패키지를 사건에 연결합니다.',
    'Black out faces (CenterFace).': '얼굴을 가립니다(CenterFace).',
    'Black out whole persons (HOG people detector).': '사람 전체를 가립니다(HOG 사람 탐지기).',
    'Bounding box in decimal degrees.': '경계 상자(십진 도 단위).',
    'Bring a package back from a cold location on demand.': '콜드 저장 위치의 패키지를 필요할 때 되가져옵니다.',
    'Camera (repeatable); default: every camera.': '카메라(여러 번 지정 가능). 기본값: 모든 카메라.',
    'Camera id (repeat for several).': '카메라 ID(여러 대이면 반복).',
    'Camera id.': '카메라 ID.',
    'Camera position in decimal degrees.': '카메라 위치(십진 도 단위).',
    'Camera purpose code (traffic, crime-prevention, ...).': '카메라 설치 목적 코드(traffic, crime-prevention, ...).',
    'Camera tag (repeat: all must match).': '카메라 태그(반복 지정 시 모두 맞아야 합니다).',
    'Case number.': '사건 번호.',
    'Case the footage belongs to.': '영상이 속한 사건.',
    'Case, claim or warrant number.': '사건·청구·영장 번호.',
    'Cases (police, complaints, disclosure requests): list (default), add, attach, add-range.':
        '사건(경찰, 민원, 공개 청구): list(기본), add, attach, add-range.',
    'Catalog database maintenance.': '카탈로그 데이터베이스 관리.',
    'Centre of a radius search.': '반경 검색의 중심.',
    'Check a proof file offline: needs nothing but the file and the certificate.':
        '증명 파일을 오프라인으로 확인합니다: 파일과 인증서만 있으면 됩니다.',
    'Check an evidence export (folder or ZIP) in one go; needs no archive.':
        '증거 내보내기(폴더 또는 ZIP)를 한 번에 확인합니다. 아카이브가 없어도 됩니다.',
    'Check the fixity of every copy, oldest-checked first; repair failing copies from good ones.\n\nExit status 1 when a copy could not be repaired (R001 names the package).':
        '모든 사본의 고정성을 가장 오래전에 검사한 것부터 검사하고, 실패한 사본은 온전한 사본으로 복구합니다.\n\n복구하지 못한 사본이 있으면 종료 상태는 1입니다(R001이 패키지를 알려 줍니다).',
    'Checkpoint (its tree size) to prove against.': '증명의 기준이 되는 체크포인트(트리 크기).',
    'Checkpoints kept elsewhere (`custody checkpoints -o`, a proof file or a .note); repeatable.':
        '다른 곳에 보관한 체크포인트(`custody checkpoints -o`, 증명 파일 또는 .note). 여러 번 지정 가능.',
    'Clips that end after this time.': '이 시각 이후에 끝나는 클립.',
    'Clips that start before this time.': '이 시각 이전에 시작하는 클립.',
    'Comma-separated queues to take jobs from (quick, heavy); all by default.':
        '작업을 가져올 대기열(쉼표로 구분: quick, heavy). 기본값은 전부.',
    'Comma-separated tags.': '쉼표로 구분한 태그.',
    'Consistency proof between two checkpoints (given by tree size): the older is a prefix of the newer.':
        '두 체크포인트(트리 크기로 지정) 사이의 일관성 증명: 오래된 것이 새것의 앞부분임을 증명합니다.',
    'Copies shown by --plan.': '--plan으로 보여 줄 사본.',
    'Copy packages to the locations their policy asks for (all packages without an id).':
        '패키지를 복제 정책이 요구하는 저장 위치로 복사합니다(ID가 없으면 모든 패키지).',
    'Create a token acting as USERNAME; it is printed once and never stored.':
        'USERNAME으로 동작하는 토큰을 만듭니다. 토큰은 한 번만 출력되고 저장되지 않습니다.',
    'Create an account.': '계정을 만듭니다.',
    'Create an archive in DIRECTORY: configuration, catalog, storage and a signing key.':
        'DIRECTORY에 아카이브를 만듭니다: 설정, 카탈로그, 저장소, 서명 키.',
    'Delete one package now (manual or administrator delete); a legal hold still refuses it.':
        '패키지 하나를 지금 삭제합니다(수동 또는 관리자 삭제). 법적 보존 조치가 있으면 거부됩니다.',
    'Deliver the masked copies as a signed export with a watermark and an expiring link.':
        '마스킹 사본을 워터마크와 만료되는 링크가 있는 서명된 내보내기로 전달합니다.',
    'Destroy every stored copy of an approved disposition (resumes an interrupted one); sign a certificate.':
        '승인된 처분의 저장된 사본을 모두 파기하고(중단된 처분은 이어서 실행합니다) 파기 확인서에 서명합니다.',
    'Detector NAME (see `longwatch detectors`).': '탐지기 NAME(`longwatch detectors` 참조).',
    'Detector parameter (repeatable).': '탐지기 매개변수(여러 번 지정 가능).',
    'Display name.': '표시 이름.',
    'Disposition: propose, approve (a second person, records manager), execute, certificate.':
        '처분: propose(제안), approve(다른 기록관리 담당자의 승인), execute(실행), certificate(파기 확인서).',
    'Do not mask faces (the datasheet says so).': '얼굴을 마스킹하지 않습니다(데이터시트에 그렇게 적습니다).',
    'End of the range.': '범위의 끝.',
    'Environment variable holding the password (never pass it on the command line).':
        '비밀번호를 담은 환경 변수(비밀번호를 명령줄에 직접 쓰지 마십시오).',
    'Event type (e.g. fall, intrusion, fire).': '이벤트 유형(예: fall, intrusion, fire).',
    'Event type (motion, alarm, disaster, ...).': '이벤트 유형(motion, alarm, disaster, ...).',
    'Event type (repeatable); default: every type.': '이벤트 유형(여러 번 지정 가능). 기본값: 모든 유형.',
    'Event type, e.g. intrusion, fall, fire.': '이벤트 유형. 예: intrusion, fall, fire.',
    'Events before this time.': '이 시각 이전의 이벤트.',
    'Events by detector, camera, type and month, with confirmed and false-positive rates of reviewed events.':
        '탐지기, 카메라, 유형, 월별 이벤트 수와 검토된 이벤트의 확인 비율 및 오탐 비율.',
    'Events from this time (Z or offset).': '이 시각부터의 이벤트(Z 또는 오프셋 포함).',
    'Every disposition with its status.': '모든 처분과 그 상태.',
    'Every package in the archive.': '아카이브의 모든 패키지.',
    'Every package of a case.': '사건의 모든 패키지.',
    'Expire after this many days.': '이 일수가 지나면 만료됩니다.',
    'Export events as masked frames (and clips), COCO and CSV labels and a datasheet, in a signed BagIt bag.':
        '이벤트를 마스킹된 프레임(과 클립), COCO 및 CSV 라벨, 데이터시트로 서명된 BagIt 백에 담아 내보냅니다.',
    'Export packages, or cameras over a time range, as a signed evidence bag verifiable with standard tools.':
        '패키지나 시간 범위의 카메라 영상을 표준 도구로 검증할 수 있는 서명된 증거 백으로 내보냅니다.',
    'Export this camera over --from/--to (repeatable).': '이 카메라의 --from/--to 범위를 내보냅니다(여러 번 지정 가능).',
    'Find clips by time, camera, zone, purpose, place, event, case, tag and text.':
        '시간, 카메라, 구역, 목적, 장소, 이벤트, 사건, 태그, 텍스트로 클립을 찾습니다.',
    'Find the footage of the claimed time and place, and hold it at once.':
        '청구한 시간과 장소의 영상을 찾아 즉시 보존 조치합니다.',
    'Frames per event (those with boxes first, else spread over the event).':
        '이벤트당 프레임 수(상자가 있는 프레임을 먼저, 없으면 이벤트 전체에 고르게).',
    'Gaps that end after this time.': '이 시각 이후에 끝나는 공백.',
    'Gaps that start before this time.': '이 시각 이전에 시작하는 공백.',
    'Give a user another role (signs the user out everywhere).': '사용자에게 다른 역할을 줍니다(모든 곳에서 로그아웃됩니다).',
    'Group by any of detector, camera, type, month (comma-separated).':
        '묶을 기준: detector, camera, type, month 중 하나 이상(쉼표로 구분).',
    'How long the download link works.': '다운로드 링크가 유효한 기간.',
    'How the identity was checked (never the ID number).': '신원 확인 방법(신분증 번호는 절대 적지 않습니다).',
    'Ignore earlier results and run from the start.': '이전 결과를 무시하고 처음부터 실행합니다.',
    'Import an existing private key (PEM) instead of generating one.': '새로 만들지 않고 기존 개인 키(PEM)를 가져옵니다.',
    'Import cameras from CSV: id,name,zone,latitude,longitude,address (or coordinates "LAT,LON").':
        'CSV에서 카메라를 가져옵니다: id,name,zone,latitude,longitude,address(또는 좌표 "LAT,LON").',
    "Import events from a control centre's AI CCTV or VMS (JSON Lines or CSV); idempotent.":
        '관제센터의 지능형 영상정보처리기기(AI CCTV)나 VMS에서 이벤트를 가져옵니다(JSON Lines 또는 CSV). 여러 번 실행해도 결과가 같습니다.',
    'Inclusion proof of ENTRY (a seq number or event id) against a signed checkpoint.':
        '서명된 체크포인트에 대한 ENTRY(순번 또는 이벤트 ID)의 포함 증명.',
    'JSON [{"start": s, "end": s, "box": [x, y, w, h]}]: extra areas, seconds from the clip start.':
        'JSON [{"start": s, "end": s, "box": [x, y, w, h]}]: 추가로 가릴 영역, 클립 시작부터의 초.',
    'JSON {camera: [[x, y, w, h], ...]}: areas to ignore, fractions of the frame (motion).':
        'JSON {camera: [[x, y, w, h], ...]}: 무시할 영역, 프레임에 대한 비율(motion).',
    'Jobs run at once by this process.': '이 프로세스가 동시에 실행하는 작업 수.',
    'Known clock error in seconds.': '알려진 시계 오차(초).',
    'Language of messages (else LONGWATCH_LANG, LANG).': '메시지 언어(없으면 LONGWATCH_LANG, LANG).',
    'Leave this track unmasked, e.g. face:2 (repeatable).': '이 추적 번호는 마스킹하지 않습니다. 예: face:2(여러 번 지정 가능).',
    'Legal holds: nothing they cover is deleted by any path until they are released.':
        '법적 보존 조치: 해제될 때까지 조치가 적용된 영상은 어떤 경로로도 삭제되지 않습니다.',
    'Licence of the dataset, e.g. KOGL Type 1.': '데이터셋의 이용 허락 조건. 예: 공공누리 제1유형(KOGL Type 1).',
    'List accounts (keys: username, role, language, active, created).':
        '계정 목록(키: username, role, language, active, created).',
    'List events (from detectors and imported from AI CCTV), with their review status and window.':
        '이벤트 목록(탐지기가 찾은 것과 지능형 영상정보처리기기(AI CCTV)에서 가져온 것)과 검토 상태 및 보존 구간.',
    'List installed detectors: version, model file, size, SHA-256 of the weights, parameters.':
        '설치된 탐지기 목록: 버전, 모델 파일, 크기, 가중치의 SHA-256, 매개변수.',
    'List loaded plugins with their versions and hooks.': '불러온 플러그인과 그 버전 및 훅의 목록.',
    'List packages, newest recording first.': '패키지 목록(최근 녹화부터).',
    'List requests with their clocks (keys as `requests show --json`).':
        '청구 목록과 처리 기한(키는 `requests show --json`과 같습니다).',
    'List the installed camera connectors and their settings.': '설치된 카메라 커넥터와 그 설정의 목록.',
    'List the signed checkpoints, or save them all to a file kept away from the archive.':
        '서명된 체크포인트 목록을 보이거나, 아카이브와 떨어진 곳에 보관할 파일로 모두 저장합니다.',
    'List the times cameras should have recorded and did not (stream drops, empty segments).':
        '카메라가 녹화했어야 하지만 녹화하지 못한 시간의 목록(스트림 끊김, 빈 세그먼트).',
    'Local accounts of the web UI and their roles.': '웹 화면의 로컬 계정과 역할.',
    'Make SCHEDULE_PATH the active schedule and reassign every package (recorded in the ledger).':
        'SCHEDULE_PATH를 현행 보존기간 책정표로 만들고 모든 패키지를 다시 지정합니다(원장에 기록).',
    'Make a redacted access copy as a new package linked to the original (which is never altered).':
        '비식별 처리한 열람 사본을 원본과 연결된 새 패키지로 만듭니다(원본은 절대 바꾸지 않습니다).',
    'Make an expiring, revocable download link for an export (served by `longwatch serve` at /s/TOKEN).':
        '내보내기에 대한 만료·취소 가능한 다운로드 링크를 만듭니다(`longwatch serve`가 /s/TOKEN에서 제공).',
    'Make copies where every person but the requester is masked.': '청구인을 뺀 모든 사람을 마스킹한 사본을 만듭니다.',
    "Make the stores' object locks match the catalog's holds and retention (after a store was unreachable).":
        '저장소의 객체 잠금을 카탈로그의 보존 조치와 보존기간에 맞춥니다(저장소에 접근할 수 없었던 뒤에).',
    'Mark an event confirmed, false positive or unsure; the decision is a ledger event naming the reviewer.':
        '이벤트를 확인, 오탐, 불확실로 표시합니다. 결정은 검토자를 밝힌 원장 이벤트로 남습니다.',
    'Masking takes longer: postpone, with the reason.': '마스킹이 더 걸립니다: 사유를 적고 연기합니다.',
    'Minimum event confidence, 0 to 1.': '이벤트 최소 신뢰도(0부터 1).',
    'Move packages between hot and cold locations, keeping their id and fixity.':
        '패키지를 핫·콜드 저장 위치 사이에서 옮깁니다. ID와 고정성은 그대로입니다.',
    'Move packages not accessed for N days to a colder location.': 'N일 동안 읽지 않은 패키지를 더 차가운 저장 위치로 옮깁니다.',
    'New folder for the dataset bag.': '데이터셋 백을 만들 새 폴더.',
    'New folder for the export bag.': '내보내기 백을 만들 새 폴더.',
    'No progress output.': '진행 상황을 출력하지 않습니다.',
    'On a PostgreSQL catalog, queue it as a job for `longwatch worker` and return at once (on SQLite it runs here, as without this option).':
        'PostgreSQL 카탈로그에서는 `longwatch worker`가 처리할 작업으로 대기열에 넣고 바로 돌아옵니다(SQLite에서는 이 옵션이 없을 때처럼 여기서 실행합니다).',
    'One package.': '패키지 하나.',
    'One pass, then exit (for cron or a test).': '한 번 처리한 뒤 끝냅니다(cron이나 테스트용).',
    'One request and its steps (each a custody event).': '청구 하나와 그 처리 단계(각각 관리 연속성 이벤트).',
    'Only copies on this location (repeatable).': '이 저장 위치의 사본만(여러 번 지정 가능).',
    'Only events a reviewer confirmed.': '검토자가 확인한 이벤트만.',
    'Only list the tracks found; store nothing.': '찾은 추적 번호만 나열하고 아무것도 저장하지 않습니다.',
    'Only this record class (repeatable).': '이 기록 분류만(여러 번 지정 가능).',
    'Open a case.': '사건을 엽니다.',
    'Organisation that holds the footage (Source-Organization).': '영상을 보유한 기관(Source-Organization).',
    'Packages not read for this many days.': '이 일수 동안 읽지 않은 패키지.',
    'Page size.': '한 페이지의 크기.',
    'Place a legal hold (recorded in the custody ledger).': '법적 보존 조치를 겁니다(관리 연속성 원장에 기록).',
    'Place name or address.': '장소 이름 또는 주소.',
    'Preserve BEFORE seconds before and AFTER after the detections as derived packages.':
        '탐지 전 BEFORE초와 탐지 후 AFTER초를 파생 패키지로 보존합니다.',
    'Preserve a time range of a package as a new derived package (copy or stream-copy cut, never re-encoded).':
        '패키지의 시간 범위를 새 파생 패키지로 보존합니다(복사 또는 스트림 복사로 자르며 다시 인코딩하지 않습니다).',
    'Print the connectors as JSON.': '커넥터를 JSON으로 출력합니다.',
    'Print the gaps as JSON.': '공백을 JSON으로 출력합니다.',
    'Print the results as JSON.': '결과를 JSON으로 출력합니다.',
    'Propose everything due (unheld) for destruction, grouped by class.':
        '기한이 된(보존 조치가 없는) 모든 것을 분류별로 묶어 파기를 제안합니다.',
    'Purpose of the recording (e.g. planning).': '녹화 목적(예: planning).',
    'Queue a failed job again.': '실패한 작업을 다시 대기열에 넣습니다.',
    'Queue the ingest of files on shared storage (in-process on a SQLite catalog).':
        '공유 저장소에 있는 파일의 입수를 대기열에 넣습니다(SQLite 카탈로그에서는 프로세스 안에서 실행).',
    'Queued, running, failed and done jobs, newest first, with the error code of each failure.':
        '대기 중, 실행 중, 실패, 완료된 작업(최근 것부터)과 실패마다의 오류 코드.',
    'Radius around --near.': '--near 주변의 반경.',
    'Read at most RATE bytes per second (e.g. 50M).': '초당 최대 RATE 바이트만 읽습니다(예: 50M).',
    'Read the password from standard input.': '표준 입력에서 비밀번호를 읽습니다.',
    'Rebuild the catalog from storage and the custody ledger (packages, reference data, copies, holds).':
        '저장소와 관리 연속성 원장에서 카탈로그를 다시 만듭니다(패키지, 참조 데이터, 사본, 보존 조치).',
    'Received date (default: now).': '접수일(기본값: 지금).',
    'Record a request as received; its 10-day clock starts.': '청구를 접수한 것으로 기록합니다. 10일 처리 기한이 시작됩니다.',
    'Record a requested time range and attach every package that overlaps it.':
        '요청된 시간 범위를 기록하고 그 범위와 겹치는 모든 패키지를 연결합니다.',
    'Record facts about packages (case, event, purpose) and recompute their class; the longest wins.':
        '패키지에 관한 사실(사건, 이벤트, 목적)을 기록하고 기록 분류를 다시 계산합니다. 가장 긴 보존기간이 우선합니다.',
    'Record that a camera moved (or was replaced) at a time: clips after it get the new place.':
        '카메라가 어느 시각에 옮겨졌거나 교체되었음을 기록합니다: 그 뒤의 클립은 새 장소를 받습니다.',
    'Record the RTSP stream URL by stream copy into archived segments.': 'RTSP 스트림 URL을 스트림 복사로 보존 세그먼트에 녹화합니다.',
    'Record the events only; preserve no windows.': '이벤트만 기록하고 보존 구간은 만들지 않습니다.',
    'Recording start with Z or an offset.': '녹화 시작 시각(Z 또는 오프셋 포함).',
    "Recount the rollups from the events table in the archive's time zone.":
        '아카이브의 시간대로 이벤트 테이블에서 집계표를 다시 셉니다.',
    'Refuse with a lawful reason (the list is data: profiles/refusal-reasons.toml).':
        '법적 사유를 들어 거부합니다(사유 목록은 데이터입니다: profiles/refusal-reasons.toml).',
    'Release a legal hold (recorded in the custody ledger).': '법적 보존 조치를 해제합니다(관리 연속성 원장에 기록).',
    'Released holds too.': '해제된 보존 조치도.',
    'Remove a zone and its sub-zones from the hierarchy (footage keeps its zone text).':
        '구역과 그 하위 구역을 계층에서 지웁니다(영상의 구역 텍스트는 그대로 남습니다).',
    'Requests for footage: PIPA access, disclosure, insurers, courts, police (10-day clock).':
        '영상 청구: 개인정보 보호법(PIPA) 열람, 공개, 보험사, 법원, 경찰(10일 처리 기한).',
    'Require time-stamp tokens from this authority.': '이 기관의 타임스탬프 토큰을 요구합니다.',
    'Required: confirms the emergency purge.': '필수: 긴급 정리를 확인합니다.',
    'Retention schedules: show the notice, preview a change, run the schedule.':
        '보존기간 책정표: 공개 방침을 보이고, 변경을 미리 보고, 책정표를 실행합니다.',
    'Revoke a share link at once.': '공유 링크를 즉시 취소합니다.',
    'Role of USER (else LONGWATCH_ROLE).': 'USER의 역할(없으면 LONGWATCH_ROLE).',
    'Run a detector over stored packages; resumes where an interrupted run stopped.':
        '저장된 패키지에 탐지기를 실행합니다. 중단된 실행은 멈춘 곳부터 이어서 실행합니다.',
    'Run queued jobs (ingest, replication, audits, detection) until stopped.':
        '대기열의 작업(입수, 복제, 감사, 탐지)을 멈출 때까지 실행합니다.',
    'Save every checkpoint to this file (keep it elsewhere; `custody verify --checkpoints`).':
        '모든 체크포인트를 이 파일에 저장합니다(다른 곳에 보관하십시오. `custody verify --checkpoints`).',
    'Seconds between looks at the source.': '원본을 확인하는 간격(초).',
    'Segments of this window (a camera-hour) share one package; 0 for one package each.':
        '이 구간(카메라별 1시간)의 세그먼트는 한 패키지에 담습니다. 0이면 세그먼트마다 패키지 하나.',
    'Serve the web UI with gunicorn.': 'gunicorn으로 웹 화면을 제공합니다.',
    'Set a new password (signs the user out everywhere).': '새 비밀번호를 설정합니다(모든 곳에서 로그아웃됩니다).',
    'Show one package: what it holds, where, and its PREMIS events.':
        '패키지 하나를 보여 줍니다: 담긴 것, 저장 위치, PREMIS 이벤트.',
    'Show tracebacks for errors.': '오류의 트레이스백을 보여 줍니다.',
    'Show what would be checked, in order, and stop.': '검사할 대상을 순서대로 보여 주고 멈춥니다.',
    'Show the window rules in force (event types, seconds kept, minimum confidence, retention).':
        '시행 중인 보존 구간 규칙을 보여 줍니다(이벤트 유형, 보존하는 초, 최소 신뢰도, 보존기간).',
    'Sign a checkpoint of the ledger now (and time-stamp it when a TSA is configured).':
        '원장의 체크포인트에 지금 서명합니다(TSA가 설정되어 있으면 타임스탬프도 받습니다).',
    'Sizes and presence only; skip payload digests.': '크기와 존재 여부만 확인하고 내용의 해시값 검사는 건너뜁니다.',
    'Start of the range, to the second (Z or offset).': '범위의 시작(초 단위, Z 또는 오프셋 포함).',
    'Start the case-closed clock of every package of CASE_ID.': 'CASE_ID 사건의 모든 패키지에 대해 사건 종결 기산을 시작합니다.',
    'Stop after this many seconds.': '이 초가 지나면 멈춥니다.',
    'Stop once the queues are empty (tests).': '대기열이 비면 멈춥니다(테스트용).',
    'Stop starting new checks after SECONDS.': 'SECONDS초가 지나면 새 검사를 시작하지 않습니다.',
    'Storage full: remove expired, unheld continuous footage, oldest first, until the reserve is free.':
        '저장 공간 부족: 예비 공간이 빌 때까지 보존기간이 지나고 보존 조치가 없는 상시 녹화 영상을 오래된 것부터 지웁니다.',
    'Storage location (default: the primary one).': '저장 위치(기본값: 주 저장 위치).',
    'Storage locations with their packages, bytes used, cap and state (from the catalog).':
        '저장 위치별 패키지, 사용한 바이트, 상한, 상태(카탈로그 기준).',
    "TOML or JSON file with the connector's settings.": '커넥터 설정이 담긴 TOML 또는 JSON 파일.',
    'The CCTV operation register, built from the custody ledger and the requests.':
        '관리 연속성 원장과 청구 기록으로 만든 개인영상정보 관리대장(영상정보처리기기).',
    "The archive's signing certificate.": '아카이브의 서명 인증서.',
    'The camera registry: list (default), add, import a CSV, record a move.':
        '카메라 대장: list(기본), add, CSV 가져오기, 이전 기록.',
    'The certificate of --key.': '--key의 인증서.',
    'The chain-of-custody ledger: every event on every package, hash-chained, signed and provable.':
        '관리 연속성 원장: 모든 패키지의 모든 이벤트를 해시 체인으로 잇고 서명하여 증명할 수 있게 합니다.',
    'The colder location.': '더 차가운 저장 위치.',
    'The cursor printed after the previous page.': '이전 페이지 뒤에 출력된 커서.',
    'The custody timeline of a package: every recorded event, oldest first.':
        '패키지의 관리 연속성 기록: 기록된 모든 이벤트(오래된 것부터).',
    'The destruction certificate of a disposition (id or certificate file); --verify checks it.':
        '처분의 파기 확인서(ID 또는 확인서 파일). --verify로 검증합니다.',
    'The legal basis for giving the footage out.': '영상을 제공하는 법적 근거.',
    'The legal basis of the disclosure.': '공개의 법적 근거.',
    "The package's custody events as PREMIS v3 XML (valid against the official schema).":
        '패키지의 관리 연속성 이벤트를 PREMIS v3 XML로 냅니다(공식 스키마에 대해 유효).',
    'The purpose of the disclosure.': '공개 목적.',
    'The receiving agency (police, court, insurer).': '받는 기관(경찰, 법원, 보험사).',
    'The receiving officer.': '받는 담당자.',
    "The recipient's case number.": '받는 쪽의 사건 번호.',
    "The requester's face track (from `redact --tracks`).": '청구인의 얼굴 추적 번호(`redact --tracks`에서).',
    'The schedule as a table, in Korean and English, fit to publish as the public notice.':
        '보존기간 책정표를 한국어와 영어 표로 보여 줍니다. 영상정보처리기기 운영·관리 방침(public notice)으로 게시할 수 있습니다.',
    "The time-stamp authority's certificate, to require that TSA.": '타임스탬프 기관의 인증서(그 TSA를 요구할 때).',
    "The web UI's address, to print a whole link.": '웹 화면의 주소(전체 링크를 출력할 때).',
    'The zone hierarchy (district > area > site): list (default), add, remove.':
        '구역 계층(구 > 지역 > 현장): list(기본), add, remove.',
    "Then execute it: on a PostgreSQL catalog a job queued in the approval's own transaction (see `dispose execute --queue`), on SQLite right away.":
        '승인 뒤 바로 실행합니다: PostgreSQL 카탈로그에서는 승인과 같은 트랜잭션에서 작업을 대기열에 넣고(`dispose execute --queue` 참조), SQLite에서는 즉시 실행합니다.',
    'Title (default: camera, time and file name).': '제목(기본값: 카메라, 시각, 파일 이름).',
    'Training data from archived events, for researchers and urban planners.':
        '보존된 이벤트로 만든 연구자와 도시계획가용 학습 데이터.',
    'Trust only signatures by this certificate (repeatable).': '이 인증서의 서명만 신뢰합니다(여러 번 지정 가능).',
    "Trusted signer certificate (default: the archive's).": '신뢰하는 서명자 인증서(기본값: 아카이브의 인증서).',
    'Until when the recipient may use the export.': '받는 사람이 내보내기를 쓸 수 있는 기한.',
    'Urban-planning counts: the state of their rollup tables, and a rebuild.':
        '도시계획용 집계: 집계표의 상태와 재구성.',
    'Verify a package (id or directory) or --all: digests, manifests, signature, schemas, profile.\n\nEvery problem is listed with its code; the exit status is 1 when any is found.':
        '패키지(ID 또는 디렉터리)나 --all을 검증합니다: 해시값, 매니페스트, 서명, 스키마, 프로파일.\n\n문제마다 코드와 함께 보여 주며, 문제가 하나라도 있으면 종료 상태는 1입니다.',
    'Verify the signature instead of printing the path.': '경로를 출력하는 대신 서명을 검증합니다.',
    "Verify the whole ledger: chain, index, tree, every checkpoint's signature and time-stamp.\n\nEach problem is listed with its code; the exit status is 1 when any is found.":
        '원장 전체를 검증합니다: 체인, 색인, 트리, 모든 체크포인트의 서명과 타임스탬프.\n\n문제마다 코드와 함께 보여 주며, 문제가 하나라도 있으면 종료 상태는 1입니다.',
    'What making SCHEDULE_PATH active would destroy now: counts, sizes, oldest, newest, by class.':
        'SCHEDULE_PATH를 현행 책정표로 만들면 지금 파기될 것: 분류별 개수, 크기, 가장 오래된 것과 최근 것.',
    'What the dataset is for.': '데이터셋의 용도.',
    'What the token is for.': '토큰의 용도.',
    'When the camera moved or was replaced.': '카메라를 옮기거나 교체한 시각.',
    'When the case was closed.': '사건을 종결한 시각.',
    'When the event happened.': '이벤트가 일어난 시각.',
    'When the hold is to be reviewed.': '보존 조치를 재검토할 시각.',
    'When the link stops working.': '링크가 만료되는 시각.',
    'When the requester says they appeared.': '청구인이 영상에 나왔다고 말하는 시각.',
    'Where to bring it back (default: the primary location).': '되가져올 저장 위치(기본값: 주 저장 위치).',
    'Whether counts are read from the rollups (keys: built, in_use, timezone, hourly_rows, ...).':
        '집계표에서 수를 읽는지 여부(키: built, in_use, timezone, hourly_rows, ...).',
    'Who acts (else LONGWATCH_USER, else the OS user).': '수행하는 사람(없으면 LONGWATCH_USER, 그다음 OS 사용자).',
    'Who decides (default: the login name).': '결정하는 사람(기본값: 로그인 이름).',
    "Who owns the hold (e.g. the prosecutor's office).": '보존 조치를 요청한 기관(예: 검찰청).',
    'Who receives it (default: the requester).': '받는 사람(기본값: 청구인).',
    'Why (recorded in the custody ledger).': '사유(관리 연속성 원장에 기록).',
    'Why it is exported (recorded with the cut).': '내보내는 사유(잘라 낸 영상과 함께 기록).',
    'Why the copy is made (recorded in the package).': '사본을 만드는 사유(패키지에 기록).',
    'Why this package is deleted outside the schedule.': '이 패키지를 보존기간 책정표와 달리 삭제하는 사유.',
    'Why this range is kept (recorded in the package).': '이 범위를 보존하는 사유(패키지에 기록).',
    'Words in titles, notes, places and Dublin Core fields.': '제목, 메모, 장소, 더블린 코어 필드에 든 낱말.',
    'Write the XML here.': 'XML을 쓸 곳.',
    'Write the proof here.': '증명을 쓸 곳.',
    'Zone (e.g. Jung-gu/Market).': '구역(예: Jung-gu/Market).',
    'Zone path; its sub-zones are included (e.g. Jung-gu/Market).': '구역 경로. 하위 구역을 포함합니다(예: Jung-gu/Market).',
    'district, area or site (default: by depth).': 'district, area 또는 site(기본값: 깊이에 따라).',
    'longwatch: a preservation archive for CCTV video.': 'longwatch: 영상정보처리기기(CCTV) 영상을 위한 보존 아카이브.',
}
KO.update(HELP)
