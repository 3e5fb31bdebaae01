mod common;
use common::Server;

#[test]
fn sadd_srem_scard_ismember() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["sadd", "s", "1", "2", "3", "3"]), ":3\r\n");
    assert_eq!(r.call(&["sadd", "s", "a"]), ":1\r\n");
    assert_eq!(r.call(&["sadd", "s", "a", "b"]), ":1\r\n");
    assert_eq!(r.call(&["scard", "s"]), ":5\r\n");
    assert_eq!(r.call(&["scard", "nokey"]), ":0\r\n");
    assert_eq!(r.call(&["sismember", "s", "a"]), ":1\r\n");
    assert_eq!(r.call(&["sismember", "s", "zz"]), ":0\r\n");
    assert_eq!(r.call(&["sismember", "nokey", "a"]), ":0\r\n");
    assert_eq!(
        r.call(&["smismember", "s", "a", "b", "1", "9"]),
        "*4\r\n:1\r\n:1\r\n:1\r\n:0\r\n"
    );
    assert_eq!(r.call(&["smismember", "nokey", "a"]), "*1\r\n:0\r\n");
    assert_eq!(r.call(&["srem", "s", "a", "b", "x"]), ":2\r\n");
    assert_eq!(r.call(&["srem", "nokey", "a"]), ":0\r\n");
    assert_eq!(r.call(&["srem", "s", "1", "2", "3"]), ":3\r\n");
    assert_eq!(r.call(&["scard", "s"]), ":0\r\n");
    assert_eq!(
        r.call(&["sadd", "big", "1", "2", "3", "-5", "100"]),
        ":5\r\n"
    );
    assert_eq!(
        r.call(&["smembers", "big"]),
        "*5\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$3\r\n100\r\n"
    );
    assert_eq!(
        r.call(&["sadd"]),
        "-ERR wrong number of arguments for 'sadd' command\r\n"
    );
    assert_eq!(
        r.call(&["sadd", "s"]),
        "-ERR wrong number of arguments for 'sadd' command\r\n"
    );
    assert_eq!(
        r.call(&["srem", "s"]),
        "-ERR wrong number of arguments for 'srem' command\r\n"
    );
}

#[test]
fn wrongtype_errors() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["zadd", "z", "1", "a"]), ":1\r\n");
    assert_eq!(
        r.call(&["sadd", "z", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["srem", "z", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["scard", "z"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["sismember", "z", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["smismember", "z", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["smembers", "z"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["spop", "z"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["srandmember", "z"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["smove", "z", "s", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(r.call(&["sadd", "s", "a"]), ":1\r\n");
    assert_eq!(
        r.call(&["smove", "s", "z", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["sinter", "s", "z"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["sinter", "nokey", "z"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["sunion", "s", "z"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["sdiff", "s", "z"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["sinterstore", "d", "s", "z"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["sintercard", "2", "s", "z"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["sscan", "z", "0"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(r.call(&["smove", "nokey", "z", "a"]), ":0\r\n");
    assert_eq!(
        r.call(&["smove", "z", "s", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

#[test]
fn inter_union_diff() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["sadd", "a", "1", "2", "3", "4"]), ":4\r\n");
    assert_eq!(r.call(&["sadd", "b", "3", "4", "5"]), ":3\r\n");
    assert_eq!(r.call(&["sadd", "c", "x", "3"]), ":2\r\n");
    assert_eq!(
        r.call(&["sinter", "a", "b"]),
        "*2\r\n$1\r\n3\r\n$1\r\n4\r\n"
    );
    assert_eq!(r.call(&["sinter", "a", "b", "c"]), "*1\r\n$1\r\n3\r\n");
    assert_eq!(r.call(&["sinter", "a", "nokey"]), "*0\r\n");
    assert_eq!(
        r.call(&["sinter", "a", "a"]),
        "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
    );
    assert_eq!(
        r.call(&["sunion", "a", "nokey"]),
        "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
    );
    assert_eq!(r.call(&["sdiff", "a", "b"]), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(
        r.call(&["sdiff", "a", "b", "c"]),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(r.call(&["sdiff", "a", "a"]), "*0\r\n");
    assert_eq!(r.call(&["sdiff", "nokey", "a"]), "*0\r\n");
    assert_eq!(r.call(&["sintercard", "2", "a", "b"]), ":2\r\n");
    assert_eq!(
        r.call(&["sintercard", "2", "a", "b", "limit", "1"]),
        ":1\r\n"
    );
    assert_eq!(
        r.call(&["sintercard", "2", "a", "b", "limit", "0"]),
        ":2\r\n"
    );
    assert_eq!(r.call(&["sintercard", "1", "nokey"]), ":0\r\n");
    assert_eq!(
        r.call(&["sintercard", "0", "a"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(
        r.call(&["sintercard", "x", "a"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(
        r.call(&["sintercard", "3", "a", "b"]),
        "-ERR Number of keys can't be greater than number of args\r\n"
    );
    assert_eq!(
        r.call(&["sintercard", "2", "a", "b", "limit", "-1"]),
        "-ERR LIMIT can't be negative\r\n"
    );
    assert_eq!(
        r.call(&["sintercard", "2", "a", "b", "limit", "x"]),
        "-ERR LIMIT can't be negative\r\n"
    );
    assert_eq!(
        r.call(&["sintercard", "2", "a", "b", "foo"]),
        "-ERR syntax error\r\n"
    );
}

#[test]
fn store_variants() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["sadd", "a", "1", "2", "3", "4"]), ":4\r\n");
    assert_eq!(r.call(&["sadd", "b", "3", "4", "5"]), ":3\r\n");
    assert_eq!(r.call(&["sinterstore", "d", "a", "b"]), ":2\r\n");
    assert_eq!(r.call(&["smembers", "d"]), "*2\r\n$1\r\n3\r\n$1\r\n4\r\n");
    assert_eq!(r.call(&["sunionstore", "u", "a", "b"]), ":5\r\n");
    assert_eq!(
        r.call(&["smembers", "u"]),
        "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"
    );
    assert_eq!(r.call(&["sdiffstore", "df", "a", "b"]), ":2\r\n");
    assert_eq!(r.call(&["smembers", "df"]), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(r.call(&["sinterstore", "d", "a", "nokey"]), ":0\r\n");
    assert_eq!(r.call(&["sismember", "d", "3"]), ":0\r\n");
    assert_eq!(r.call(&["sunionstore", "df", "nokey"]), ":0\r\n");
    assert_eq!(r.call(&["scard", "df"]), ":0\r\n");
    assert_eq!(r.call(&["sdiffstore", "a", "a"]), ":4\r\n");
    assert_eq!(r.call(&["scard", "a"]), ":4\r\n");
}

#[test]
fn smove() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["sadd", "s1", "a", "b"]), ":2\r\n");
    assert_eq!(r.call(&["sadd", "s2", "c"]), ":1\r\n");
    assert_eq!(r.call(&["smove", "s1", "s2", "a"]), ":1\r\n");
    assert_eq!(
        r.call(&["sort", "s2", "alpha"]),
        "*2\r\n$1\r\na\r\n$1\r\nc\r\n"
    );
    assert_eq!(r.call(&["smove", "s1", "s2", "nosuch"]), ":0\r\n");
    assert_eq!(r.call(&["smove", "nokey", "s2", "a"]), ":0\r\n");
    assert_eq!(r.call(&["smove", "s1", "s1", "b"]), ":1\r\n");
    assert_eq!(r.call(&["smove", "s1", "s1", "x"]), ":0\r\n");
    assert_eq!(r.call(&["smove", "s1", "s2", "b"]), ":1\r\n");
    assert_eq!(r.call(&["scard", "s1"]), ":0\r\n");
    assert_eq!(
        r.call(&["sort", "s2", "alpha"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(r.call(&["smove", "s2", "s3", "c"]), ":1\r\n");
    assert_eq!(r.call(&["smembers", "s3"]), "*1\r\n$1\r\nc\r\n");
}

#[test]
fn spop_srandmember_errors() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["sadd", "s", "1"]), ":1\r\n");
    assert_eq!(r.call(&["spop", "nokey"]), "$-1\r\n");
    assert_eq!(r.call(&["spop", "nokey", "0"]), "*0\r\n");
    assert_eq!(r.call(&["spop", "nokey", "3"]), "*0\r\n");
    assert_eq!(
        r.call(&["spop", "s", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(
        r.call(&["spop", "s", "x"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(r.call(&["spop", "s", "1", "2"]), "-ERR syntax error\r\n");
    assert_eq!(r.call(&["spop", "s", "0"]), "*0\r\n");
    assert_eq!(r.call(&["srandmember", "nokey"]), "$-1\r\n");
    assert_eq!(r.call(&["srandmember", "nokey", "5"]), "*0\r\n");
    assert_eq!(r.call(&["srandmember", "nokey", "-5"]), "*0\r\n");
    assert_eq!(r.call(&["srandmember", "s", "-9223372036854775808"]), "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n");
    assert_eq!(r.call(&["srandmember", "s", "0"]), "*0\r\n");
    assert_eq!(
        r.call(&["srandmember", "s", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["srandmember", "s", "1", "2"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(r.call(&["srandmember", "s", "5"]), "*1\r\n$1\r\n1\r\n");
    assert_eq!(
        r.call(&["srandmember", "s", "-3"]),
        "*3\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n1\r\n"
    );
    assert_eq!(r.call(&["spop", "s", "5"]), "*1\r\n$1\r\n1\r\n");
    assert_eq!(r.call(&["scard", "s"]), ":0\r\n");
}

#[test]
fn sscan() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["sadd", "s", "1", "2", "3"]), ":3\r\n");
    assert_eq!(
        r.call(&["sscan", "s", "0"]),
        "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["sscan", "s", "0", "match", "2"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        r.call(&["sscan", "s", "0", "count", "10"]),
        "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(r.call(&["sscan", "s", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(
        r.call(&["sscan", "s", "0", "count", "0"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["sscan", "s", "0", "count", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(r.call(&["sscan", "s", "0", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(
        r.call(&["sscan", "s", "0", "match"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(r.call(&["sscan", "nokey", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
}

#[test]
fn resp3_shapes() {
    let s = Server::start();
    let mut r = s.raw();
    r.call(&["hello", "3"]);
    assert_eq!(r.call(&["sadd", "s", "1", "2", "3"]), ":3\r\n");
    assert_eq!(
        r.call(&["smembers", "s"]),
        "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["sinter", "s"]),
        "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["sunion", "s"]),
        "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["sdiff", "s"]),
        "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(r.call(&["spop", "nokey", "1"]), "~0\r\n");
    assert_eq!(r.call(&["spop", "s", "0"]), "~0\r\n");
    assert_eq!(
        r.call(&["srandmember", "s", "5"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(r.call(&["smismember", "s", "1", "7"]), "*2\r\n:1\r\n:0\r\n");
    assert_eq!(r.call(&["spop", "nokey"]), "_\r\n");
}

#[test]
fn big_hashtable_set() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&[
            "sadd", "hs", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
            "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27",
            "28", "29", "30", "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41",
            "42", "43", "44", "45", "46", "47", "48", "49", "50", "51", "52", "53", "54", "55",
            "56", "57", "58", "59", "60", "61", "62", "63", "64", "65", "66", "67", "68", "69",
            "70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "80", "81", "82", "83",
            "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "95", "96", "97",
            "98", "99", "100", "101", "102", "103", "104", "105", "106", "107", "108", "109",
            "110", "111", "112", "113", "114", "115", "116", "117", "118", "119", "120", "121",
            "122", "123", "124", "125", "126", "127", "128", "129", "130", "131", "132", "133",
            "134", "135", "136", "137", "138", "139", "140", "141", "142", "143", "144", "145",
            "146", "147", "148", "149", "150", "151", "152", "153", "154", "155", "156", "157",
            "158", "159", "160", "161", "162", "163", "164", "165", "166", "167", "168", "169",
            "170", "171", "172", "173", "174", "175", "176", "177", "178", "179", "180", "181",
            "182", "183", "184", "185", "186", "187", "188", "189", "190", "191", "192", "193",
            "194", "195", "196", "197", "198", "199", "200", "201", "202", "203", "204", "205",
            "206", "207", "208", "209", "210", "211", "212", "213", "214", "215", "216", "217",
            "218", "219", "220", "221", "222", "223", "224", "225", "226", "227", "228", "229",
            "230", "231", "232", "233", "234", "235", "236", "237", "238", "239", "240", "241",
            "242", "243", "244", "245", "246", "247", "248", "249", "250", "251", "252", "253",
            "254", "255", "256", "257", "258", "259", "260", "261", "262", "263", "264", "265",
            "266", "267", "268", "269", "270", "271", "272", "273", "274", "275", "276", "277",
            "278", "279", "280", "281", "282", "283", "284", "285", "286", "287", "288", "289",
            "290", "291", "292", "293", "294", "295", "296", "297", "298", "299", "300", "301",
            "302", "303", "304", "305", "306", "307", "308", "309", "310", "311", "312", "313",
            "314", "315", "316", "317", "318", "319", "320", "321", "322", "323", "324", "325",
            "326", "327", "328", "329", "330", "331", "332", "333", "334", "335", "336", "337",
            "338", "339", "340", "341", "342", "343", "344", "345", "346", "347", "348", "349",
            "350", "351", "352", "353", "354", "355", "356", "357", "358", "359", "360", "361",
            "362", "363", "364", "365", "366", "367", "368", "369", "370", "371", "372", "373",
            "374", "375", "376", "377", "378", "379", "380", "381", "382", "383", "384", "385",
            "386", "387", "388", "389", "390", "391", "392", "393", "394", "395", "396", "397",
            "398", "399", "400", "401", "402", "403", "404", "405", "406", "407", "408", "409",
            "410", "411", "412", "413", "414", "415", "416", "417", "418", "419", "420", "421",
            "422", "423", "424", "425", "426", "427", "428", "429", "430", "431", "432", "433",
            "434", "435", "436", "437", "438", "439", "440", "441", "442", "443", "444", "445",
            "446", "447", "448", "449", "450", "451", "452", "453", "454", "455", "456", "457",
            "458", "459", "460", "461", "462", "463", "464", "465", "466", "467", "468", "469",
            "470", "471", "472", "473", "474", "475", "476", "477", "478", "479", "480", "481",
            "482", "483", "484", "485", "486", "487", "488", "489", "490", "491", "492", "493",
            "494", "495", "496", "497", "498", "499", "500", "501", "502", "503", "504", "505",
            "506", "507", "508", "509", "510", "511", "512", "513", "514", "515", "516", "517",
            "518", "519", "520", "521", "522", "523", "524", "525", "526", "527", "528", "529",
            "530", "531", "532", "533", "534", "535", "536", "537", "538", "539", "540", "541",
            "542", "543", "544", "545", "546", "547", "548", "549", "550", "551", "552", "553",
            "554", "555", "556", "557", "558", "559", "560", "561", "562", "563", "564", "565",
            "566", "567", "568", "569", "570", "571", "572", "573", "574", "575", "576", "577",
            "578", "579", "580", "581", "582", "583", "584", "585", "586", "587", "588", "589",
            "590", "591", "592", "593", "594", "595", "596", "597", "598", "599"
        ]),
        ":600\r\n"
    );
    assert_eq!(r.call(&["scard", "hs"]), ":600\r\n");
    assert_eq!(r.call(&["sismember", "hs", "599"]), ":1\r\n");
    assert_eq!(r.call(&["sismember", "hs", "600"]), ":0\r\n");
    assert_eq!(r.call(&["sadd", "hs", "x"]), ":1\r\n");
    assert_eq!(r.call(&["scard", "hs"]), ":601\r\n");
    assert_eq!(r.call(&["srem", "hs", "x", "0", "1", "2"]), ":4\r\n");
    assert_eq!(r.call(&["scard", "hs"]), ":597\r\n");
    assert_eq!(
        r.call(&["sadd", "small", "5", "10", "599", "1000", "y"]),
        ":5\r\n"
    );
    assert_eq!(r.call(&["sintercard", "2", "hs", "small"]), ":3\r\n");
    assert_eq!(
        r.call(&["sort", "small", "alpha"]),
        "*5\r\n$2\r\n10\r\n$4\r\n1000\r\n$1\r\n5\r\n$3\r\n599\r\n$1\r\ny\r\n"
    );
    assert_eq!(r.call(&["sinterstore", "d", "hs", "small"]), ":3\r\n");
    assert_eq!(
        r.call(&["sort", "d"]),
        "*3\r\n$1\r\n5\r\n$2\r\n10\r\n$3\r\n599\r\n"
    );
    assert_eq!(r.call(&["sdiffstore", "d2", "small", "hs"]), ":2\r\n");
    assert_eq!(
        r.call(&["sort", "d2", "alpha"]),
        "*2\r\n$4\r\n1000\r\n$1\r\ny\r\n"
    );
    assert_eq!(r.call(&["sunionstore", "d3", "small", "hs"]), ":599\r\n");
    assert_eq!(r.call(&["scard", "d3"]), ":599\r\n");
    assert_eq!(
        r.call(&["sort", "hs", "limit", "0", "5"]),
        "*5\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n"
    );
    assert_eq!(
        r.call(&["sort", "hs", "desc", "limit", "0", "5"]),
        "*5\r\n$3\r\n599\r\n$3\r\n598\r\n$3\r\n597\r\n$3\r\n596\r\n$3\r\n595\r\n"
    );
    assert_eq!(
        r.call(&["sort", "hs", "by", "nosort", "limit", "0", "0"]),
        "*0\r\n"
    );
}

#[test]
fn intset_limits() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&[
            "sadd",
            "i",
            "9223372036854775807",
            "-9223372036854775808",
            "0",
            "-1"
        ]),
        ":4\r\n"
    );
    assert_eq!(r.call(&["smembers", "i"]), "*4\r\n$20\r\n-9223372036854775808\r\n$2\r\n-1\r\n$1\r\n0\r\n$19\r\n9223372036854775807\r\n");
    assert_eq!(r.call(&["sadd", "i", "9223372036854775808"]), ":1\r\n");
    assert_eq!(r.call(&["sort", "i", "alpha"]), "*5\r\n$2\r\n-1\r\n$20\r\n-9223372036854775808\r\n$1\r\n0\r\n$19\r\n9223372036854775807\r\n$19\r\n9223372036854775808\r\n");
    assert_eq!(r.call(&["sadd", "j", "01", "1", "+1"]), ":3\r\n");
    assert_eq!(
        r.call(&["sort", "j", "alpha"]),
        "*3\r\n$2\r\n+1\r\n$2\r\n01\r\n$1\r\n1\r\n"
    );
    assert_eq!(r.call(&["scard", "j"]), ":3\r\n");
}

fn members(reply: &str) -> Vec<String> {
    // Parse a flat array of bulk strings.
    let mut out = Vec::new();
    let mut lines = reply.split("\r\n");
    let head = lines.next().unwrap_or("");
    assert!(head.starts_with('*') || head.starts_with('~'), "{reply}");
    while let Some(l) = lines.next() {
        if l.starts_with('$') {
            out.push(lines.next().unwrap_or("").to_string());
        }
    }
    out
}

#[test]
fn random_pops_and_samples() {
    let s = Server::start();
    let mut r = s.raw();
    let mut args = vec!["SADD", "h"];
    let names: Vec<String> = (0..50).map(|i| format!("e{i}")).collect();
    for n in &names {
        args.push(n);
    }
    assert_eq!(r.call(&args), ":50\r\n");
    // Unique sample smaller than the set.
    let v = members(&r.call(&["SRANDMEMBER", "h", "10"]));
    let mut u = v.clone();
    u.sort();
    u.dedup();
    assert_eq!(u.len(), 10);
    // Negative count may repeat and always has exactly |count| items.
    assert_eq!(members(&r.call(&["SRANDMEMBER", "h", "-100"])).len(), 100);
    // Whole set.
    assert_eq!(members(&r.call(&["SRANDMEMBER", "h", "60"])).len(), 50);
    // SPOP with count removes exactly those members.
    let popped = members(&r.call(&["SPOP", "h", "20"]));
    assert_eq!(popped.len(), 20);
    assert_eq!(r.call(&["SCARD", "h"]), ":30\r\n");
    for p in &popped {
        assert_eq!(r.call(&["SISMEMBER", "h", p]), ":0\r\n");
    }
    // Pop most of the rest (the "rebuild" strategy in Redis).
    assert_eq!(members(&r.call(&["SPOP", "h", "29"])).len(), 29);
    assert_eq!(r.call(&["SCARD", "h"]), ":1\r\n");
    let last = members(&r.call(&["SPOP", "h", "5"]));
    assert_eq!(last.len(), 1);
    assert_eq!(r.call(&["SCARD", "h"]), ":0\r\n");
    // Single SPOP on an intset.
    r.call(&["SADD", "i", "1", "2"]);
    let one = r.call(&["SPOP", "i"]);
    assert!(one == "$1\r\n1\r\n" || one == "$1\r\n2\r\n", "{one}");
    let m = r.call(&["SRANDMEMBER", "i"]);
    assert!(m == "$1\r\n1\r\n" || m == "$1\r\n2\r\n", "{m}");
    r.call(&["SPOP", "i"]);
    assert_eq!(r.call(&["SCARD", "i"]), ":0\r\n");
    assert_eq!(r.call(&["SPOP", "i"]), "$-1\r\n");
}

#[test]
fn sscan_hashtable_full_iteration() {
    let s = Server::start();
    let mut r = s.raw();
    let mut args = vec!["SADD".to_string(), "h".to_string()];
    for i in 0..1000 {
        args.push(format!("m{i}"));
    }
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    assert_eq!(r.call(&a), ":1000\r\n");
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let rep = r.call(&["SSCAN", "h", &cursor, "COUNT", "50"]);
        let mut lines = rep.split("\r\n").skip(2);
        cursor = lines.next().unwrap().to_string();
        for m in members(rep.splitn(4, "\r\n").nth(3).unwrap()) {
            seen.insert(m);
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
}
