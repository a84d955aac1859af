SELECT
  *
FROM (
  SELECT
    `t8`.`bucket_order`,
    `t8`.`bucket`,
    `t8`.`count`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t8`.`count` AS FLOAT64),
            NULLIF(
              SUM(`t8`.`count`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `share`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(SUM(`t8`.`count`) OVER (ORDER BY `t8`.`bucket_order` ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS FLOAT64),
            NULLIF(
              SUM(`t8`.`count`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `cumulative_share`
  FROM (
    SELECT
      `t2`.`bucket_order`,
      `t2`.`bucket`,
      COALESCE(`t7`.`n`, 0) AS `count`
    FROM `memtable_1` AS `t2`
    LEFT OUTER JOIN (
      SELECT
        `t5`.`bucket_order`,
        COUNT(`t5`.`balance`) AS `n`
      FROM (
        SELECT
          `t4`.`customer_id`,
          `t4`.`balance`,
          CASE
            WHEN `t4`.`balance` <= 99
            THEN 0
            WHEN `t4`.`balance` <= 499
            THEN 1
            WHEN `t4`.`balance` <= 999
            THEN 2
            WHEN `t4`.`balance` <= 4999
            THEN 3
            ELSE 4
          END AS `bucket_order`
        FROM (
          SELECT
            `t3`.`customer_id`,
            SUM(`t3`.`points`) AS `balance`
          FROM (
            SELECT
              *
            FROM `point_transactions` AS `t1`
            WHERE
              DATE(TIMESTAMP_ADD(`t1`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
          ) AS `t3`
          GROUP BY
            1
        ) AS `t4`
        WHERE
          `t4`.`balance` > 0
      ) AS `t5`
      GROUP BY
        1
    ) AS `t7`
      ON `t2`.`bucket_order` = `t7`.`bucket_order`
  ) AS `t8`
) AS `t9`
ORDER BY
  `t9`.`bucket_order` ASC NULLS LAST
