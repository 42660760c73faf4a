"""Korean for staged objects and uploads kept in the store (issue 20: nothing shared but the database and the store)."""

KO = {
    "the staged object {key} does not hold the bytes it was queued with (SHA-256 {found}, expected {expected}); "
    "nothing was archived: queue the file again":
        "스테이징된 객체 {key}의 바이트가 작업을 대기열에 넣을 때와 다릅니다 (SHA-256 {found}, 기대한 값 {expected}). "
        "아무것도 보존하지 않았습니다: 파일을 다시 대기열에 넣으십시오",
    "the parts of upload {upload_id} do not cover its {length} bytes ({detail}); nothing was archived: "
    "start the upload again":
        "업로드 {upload_id}의 조각들이 전체 {length}바이트를 채우지 못합니다 ({detail}). 아무것도 보존하지 않았습니다: "
        "업로드를 처음부터 다시 하십시오",
    "the staged object {key} is not on storage location {location!r} and no package holds its bytes; nothing was "
    "archived: queue the file again":
        "스테이징된 객체 {key}이(가) 저장 위치 {location!r}에 없고 그 바이트를 담은 패키지도 없습니다. 아무것도 "
        "보존하지 않았습니다: 파일을 다시 대기열에 넣으십시오",
    "upload {upload_id} could not be archived: {error}":
        "업로드 {upload_id}을(를) 보존하지 못했습니다: {error}",
    "the worker lost the job queue's database ({error}); it carries on and tries again in {seconds} s":
        "작업 프로세스가 작업 대기열 데이터베이스와의 연결을 잃었습니다 ({error}); 작업 프로세스는 멈추지 않고 {seconds}초 뒤에 다시 시도합니다",
}
